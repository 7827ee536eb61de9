using ModelLibrary.Catalog;

namespace ModelLibrary.Sources.Hub;

/// <summary>
/// The Hugging Face Hub as a model source: <c>hf.co/...</c> references resolve to models and their files, pinned to
/// the commit the revision pointed at when resolved (so every file comes from the same commit, and the commit is
/// recorded as <see cref="ModelInfo.Revision"/>). Lists nothing by itself: the Hub is searched, not listed.
/// </summary>
public sealed class HubSource : IModelSource
{
    readonly HubClient client;

    public HubSource(HttpClient http, HubSettings settings) => client = new HubClient(http, settings);

    public HubSettings Settings => client.Settings;

    public string Name => Settings.SourceName;

    public Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new CatalogReadResult(Array.Empty<ModelInfo>(), Array.Empty<string>()));

    public bool Handles(ModelReference reference) => reference.Kind == ModelReferenceKind.HuggingFace;

    public async Task<IReadOnlyList<ModelInfo>> DescribeAsync(ModelReference reference, CancellationToken cancellationToken)
    {
        var (info, tree) = await ReadRepositoryAsync(reference, cancellationToken).ConfigureAwait(false);
        if (reference.FilePath is not null || reference.Quantization is not null)
        {
            return new[] { Build(reference, info, Select(reference, info, tree)).Model };
        }

        var models = new List<ModelInfo>();
        var ggufs = HubFileSelection.GgufModels(tree);
        // Each quantization by its own reference; a GGUF without a quantization in its name is the repository itself
        // when it is the only one (as Start-ModelDownload takes it), else that file.
        models.AddRange(ggufs.Select(g => Build(
            g.Quantization is not null ? reference.WithQuantization(g.Quantization)
            : ggufs.Count == 1 ? reference
            : reference with { Quantization = null, FilePath = g.Entry!.Path }, info, g, explicitId: true).Model));
        if (HubFileSelection.Transformers(tree) is { } transformers)
        {
            models.Add(Build(reference, info, transformers).Model);
        }

        return models.Count > 0 ? models : throw NoModel(reference, tree);
    }

    public async Task<ResolvedModel> ResolveAsync(ModelReference reference, CancellationToken cancellationToken)
    {
        var (info, tree) = await ReadRepositoryAsync(reference, cancellationToken).ConfigureAwait(false);
        if (info.Gated && Settings.Token is null)
        {
            throw Errors.AuthenticationRequired(reference.Text,
                $"The repository '{info.RepoId}' is gated: accept its licence at {Settings.RepositoryPage(info.RepoId)} and set HF_TOKEN to a token of that account.", null,
                new[] { $"Open {Settings.RepositoryPage(info.RepoId)}, sign in and accept the licence.", "Create a read token at https://huggingface.co/settings/tokens and set $env:HF_TOKEN to it,", "or register the Hub with Register-ModelSource -Type HuggingFace -Credential." });
        }

        return Build(reference, info, Select(reference, info, tree));
    }

    /// <summary>Find-LibraryModel: one model per repository, <c>Id</c> = <c>hf.co/&lt;owner&gt;/&lt;repo&gt;</c>.</summary>
    public async Task<IReadOnlyList<ModelInfo>> SearchAsync(string? query, string? format, int limit, CancellationToken cancellationToken)
    {
        var hits = await client.SearchAsync(query, format, limit, cancellationToken).ConfigureAwait(false);
        return hits.Select(hit =>
        {
            var gguf = hit.Tags.Contains("gguf", StringComparer.OrdinalIgnoreCase) || hit.Siblings.Any(s => s.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase));
            var model = new ModelInfo
            {
                Id = $"{ModelReference.HubHost}/{hit.RepoId}",
                Name = hit.RepoId,
                Provider = gguf ? "llama-cpp" : "transformers",
                Format = gguf ? "gguf" : hit.Tags.Contains("safetensors", StringComparer.OrdinalIgnoreCase) ? "safetensors" : hit.LibraryName,
                Source = Name,
                Revision = hit.Sha,
                Description = hit.PipelineTag is null ? null : $"{hit.PipelineTag} on the Hugging Face Hub",
                Capabilities = Capabilities(hit),
                DownloadUrl = Settings.RepositoryPage(hit.RepoId),
                Status = ModelStatus.Available,
                Metadata = new ModelMetadata { License = hit.License, Tags = hit.Tags },
            };
            if (hit.Downloads is { } downloads)
            {
                model.AdditionalProperties["downloads"] = downloads;
            }

            model.AdditionalProperties["gated"] = hit.Gated;
            return model;
        }).ToList();
    }

    async Task<(HubRepoInfo Info, IReadOnlyList<HubTreeEntry> Tree)> ReadRepositoryAsync(ModelReference reference, CancellationToken cancellationToken)
    {
        var repoId = reference.RepoId!;
        var info = await client.GetRepoInfoAsync(repoId, reference.Revision, reference.Text, cancellationToken).ConfigureAwait(false);
        if (info.Sha is null)
        {
            throw Errors.NetworkFailure($"The Hub did not say which commit '{repoId}' is at.", target: reference.Text);
        }

        // The tree at the commit, not the branch: the files listed and fetched are the same commit's even if the branch moves meanwhile.
        var tree = await client.GetTreeAsync(repoId, info.Sha, reference.Text, cancellationToken).ConfigureAwait(false);
        foreach (var entry in tree)
        {
            // A listing that names a path leaving the repository is refused whole, before anything is written.
            ModelReference.CheckRelativePath(entry.Path, reference.Text);
        }

        return (info with { RepoId = repoId }, tree);
    }

    HubModelChoice Select(ModelReference reference, HubRepoInfo info, IReadOnlyList<HubTreeEntry> tree)
    {
        if (reference.FilePath is { } path)
        {
            var file = tree.FirstOrDefault(e => e.Path == path) ?? throw Errors.ModelNotFound(reference.Text,
                $"The repository '{info.RepoId}' has no file '{path}' at revision {reference.Revision ?? "main"} ({info.Sha}).",
                new Dictionary<string, object?> { ["reference"] = reference.Text, ["file"] = path },
                new[] { $"Run Get-LibraryModel hf.co/{info.RepoId} to see its models." });
            var format = ModelFileNames.FormatOf(path);
            return new HubModelChoice(path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? HubFileSelection.QuantizationOf(file.FileName[..^5]) : null,
                format ?? "unknown", format is "gguf" ? "llama-cpp" : "transformers", new[] { file }, file, null);
        }

        var ggufs = HubFileSelection.GgufModels(tree);
        var transformers = HubFileSelection.Transformers(tree);
        if (reference.Quantization is { } quant)
        {
            return HubFileSelection.PickGguf(ggufs, quant, out _) ?? throw Errors.ModelNotFound(reference.Text,
                $"The repository '{info.RepoId}' has no GGUF file of quantization '{quant}'" + (ggufs.Count > 0 ? $"; it has {string.Join(", ", ggufs.Select(Label))}." : "; it has no GGUF files."),
                new Dictionary<string, object?> { ["reference"] = reference.Text, ["quantization"] = quant, ["choices"] = ggufs.Select(Label).ToArray() },
                ggufs.Count > 0 ? new[] { $"Use one of: {string.Join(", ", ggufs.Select(g => reference.WithQuantization(Label(g)).Id))}." } : new[] { "Look for a -GGUF repository of this model with Find-LibraryModel -Format gguf." });
        }

        if (transformers is not null && (ggufs.Count == 0 || !tree.Any(e => !e.Path.Contains('/') && e.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))))
        {
            return transformers;
        }

        var picked = HubFileSelection.PickGguf(ggufs, null, out var ambiguous);
        if (picked is not null)
        {
            return picked;
        }

        if (ambiguous)
        {
            throw Errors.AmbiguousModelReference(reference.Text, ggufs.Select(g => reference.WithQuantization(Label(g)).Id).ToList(),
                $"{ggufs.Count} quantizations and no {HubFileSelection.DefaultQuantization}; choose one");
        }

        return transformers ?? throw NoModel(reference, tree);
    }

    ResolvedModel Build(ModelReference reference, HubRepoInfo info, HubModelChoice choice, bool explicitId = false)
    {
        var repoId = info.RepoId;
        // A GGUF model chosen by default is named by its quantization, so the id says what was downloaded.
        var id = choice.Format == "gguf" && reference.FilePath is null && choice.Quantization is not null && !explicitId
            ? reference.WithQuantization(choice.Quantization).Id
            : reference.Id;
        // One named file, and GGUF files, land flat in the model's folder.
        var gguf = choice.Format == "gguf" || reference.FilePath is not null;
        // GGUF files land side by side (llama.cpp finds split parts and the projector next to the first part); a
        // transformers model keeps its repository layout (top-level files only).
        var files = choice.Files.Select(f => new RemoteModelFile
        {
            RelativePath = gguf ? f.FileName : f.Path,
            Url = Settings.ResolveUrl(repoId, info.Sha!, f.Path),
            Size = f.Size,
            Checksum = f.LfsSha256 is { Length: 64 } sha ? Sha256Checksum.Normalize(sha) : null,
            GitBlobSha1 = f.LfsSha256 is null ? f.GitOid : null,
        }).ToList();
        var entry = choice.Entry;
        var single = files.Count == 1;
        var model = new ModelInfo
        {
            Id = id,
            Name = repoId[(repoId.IndexOf('/') + 1)..] + (choice.Quantization is { } q && reference.FilePath is null ? " " + q : ""),
            Provider = choice.Provider,
            Format = choice.Format,
            Size = files.Sum(f => f.Size ?? 0),
            Source = Name,
            Revision = info.Sha,
            DownloadUrl = entry is not null ? Settings.ResolveUrl(repoId, info.Sha!, entry.Path).AbsoluteUri : Settings.RepositoryPage(repoId),
            // A transformers model is its folder (LocalPath is the folder; the weights are found in it); a GGUF model is its first file.
            FileName = entry is null || (!gguf && !single) ? null : gguf ? entry.FileName : entry.Path,
            Checksum = single ? files[0].Checksum : null,
            Description = $"{repoId} on the Hugging Face Hub" + (info.PipelineTag is null ? "" : $" ({info.PipelineTag})") + (files.Count > 1 ? $", {files.Count} files" : ""),
            Capabilities = Capabilities(info),
            Status = ModelStatus.Available,
            Metadata = new ModelMetadata { Quantization = choice.Quantization, License = info.License, Tags = info.Tags },
        };
        model.AdditionalProperties["hub_repository"] = repoId;
        model.AdditionalProperties["files"] = files.Select(f => f.RelativePath).ToArray();
        if (info.Gated)
        {
            model.AdditionalProperties["gated"] = true;
        }

        if (choice.Projector is not null)
        {
            model.AdditionalProperties["mmproj"] = choice.Projector.FileName;
        }

        return new ResolvedModel(model, files) { AllowInsecureHttp = Settings.AllowInsecureHttp };
    }

    static string[] Capabilities(HubRepoInfo info) => info.PipelineTag switch
    {
        "text-generation" => new[] { "text-generation", "chat" },
        "image-text-to-text" => new[] { "text-generation", "vision" },
        null => Array.Empty<string>(),
        var tag => new[] { tag },
    };

    static string Label(HubModelChoice g) => g.Quantization ?? Stem(g);

    static string Stem(HubModelChoice g) => g.Entry!.FileName[..^".gguf".Length];

    static ModelLibraryException NoModel(ModelReference reference, IReadOnlyList<HubTreeEntry> tree) => Errors.ModelNotFound(
        reference.Text,
        $"The repository '{reference.RepoId}' holds no model this library can download: no GGUF file and no safetensors or pytorch weights at its top ({tree.Count} files).",
        new Dictionary<string, object?> { ["reference"] = reference.Text },
        new[] { "Name one file with hf.co/<owner>/<repo>/<file>.", "Find-LibraryModel -Format gguf finds GGUF repositories." });
}
