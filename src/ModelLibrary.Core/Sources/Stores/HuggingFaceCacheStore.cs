using ModelLibrary.Sources.Hub;

namespace ModelLibrary.Sources.Stores;

/// <summary>
/// The Hugging Face cache as huggingface_hub writes it (file_download.py: repo_folder_name, blobs named by ETag,
/// relative symlinks in <c>snapshots/&lt;commit&gt;/</c>, <c>refs/&lt;branch&gt;</c> holding the commit without a newline).
/// Each cached model repository lists its models by their Hub reference (<c>hf.co/&lt;owner&gt;/&lt;repo&gt;:&lt;QUANT&gt;</c>,
/// chosen as the Hub source chooses them), so a model already in the cache is Local and not downloaded again.
/// The snapshot read is the one <c>refs/main</c> names, else the newest.
/// </summary>
public sealed class HuggingFaceCacheStore : ExternalStoreSource
{
    public HuggingFaceCacheStore(string name, string root) : base(name, root) { }

    public override string Tool => "Hugging Face cache";

    /// <summary>huggingface_hub's constants.py: <c>HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c> (XDG_CACHE_HOME honoured).</summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } cache)
        {
            return cache;
        }

        if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home)
        {
            return Path.Combine(home, "hub");
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(xdg, "huggingface", "hub");
    }

    /// <summary>repo_folder_name: <c>models--&lt;owner&gt;--&lt;repo&gt;</c>.</summary>
    public static string RepoFolderName(string repoId) => "models--" + repoId.Replace("/", "--", StringComparison.Ordinal);

    protected override IEnumerable<ModelInfo> Scan(List<string> warnings, CancellationToken cancellationToken)
    {
        foreach (var repo in new DirectoryInfo(Root).EnumerateDirectories("models--*").OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var repoId = repo.Name["models--".Length..].Replace("--", "/", StringComparison.Ordinal);
            if (repoId.Count(c => c == '/') != 1 || repoId.StartsWith('/') || repoId.EndsWith('/'))
            {
                // Canonical models without an owner (gpt2) have no hf.co/<owner>/<repo> reference.
                continue;
            }

            foreach (var model in ReadRepository(repo, repoId, warnings))
            {
                yield return model;
            }
        }
    }

    IEnumerable<ModelInfo> ReadRepository(DirectoryInfo repo, string repoId, List<string> warnings)
    {
        var snapshots = new DirectoryInfo(Path.Combine(repo.FullName, "snapshots"));
        if (!snapshots.Exists)
        {
            return Array.Empty<ModelInfo>();
        }

        var commit = ReadRef(repo.FullName, "main");
        var snapshot = commit is not null && Directory.Exists(Path.Combine(snapshots.FullName, commit))
            ? new DirectoryInfo(Path.Combine(snapshots.FullName, commit))
            : snapshots.EnumerateDirectories().OrderByDescending(d => d.LastWriteTimeUtc).FirstOrDefault();
        if (snapshot is null)
        {
            return Array.Empty<ModelInfo>();
        }

        // Every file of the snapshot whose link resolves to a blob inside this repository's folder; others are named and left out.
        var tree = new List<HubTreeEntry>();
        var bad = new Dictionary<string, string>(StringComparer.Ordinal);
        var real = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in snapshot.EnumerateFiles("*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(snapshot.FullName, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (Resolve(file.FullName, repo.FullName, out var why) is { } blob)
            {
                real[relative] = blob;
                var blobName = Path.GetFileName(blob);
                tree.Add(new HubTreeEntry(relative, new FileInfo(blob).Length, null, blobName.Length == 64 && blobName.All(Uri.IsHexDigit) ? blobName.ToLowerInvariant() : null));
            }
            else
            {
                bad[relative] = why!;
            }
        }

        var models = new List<ModelInfo>();
        var reference = ModelReference.Parse($"{ModelReference.HubHost}/{repoId}");
        var ggufs = HubFileSelection.GgufModels(tree);
        foreach (var choice in ggufs)
        {
            var id = choice.Quantization is not null ? reference.WithQuantization(choice.Quantization).Id
                : ggufs.Count == 1 ? reference.Id : $"{reference.Id}/{choice.Entry!.Path}";
            models.Add(Build(id, repoId, snapshot, choice, real));
        }

        if (HubFileSelection.Transformers(tree) is { } transformers)
        {
            models.Add(Build(reference.Id, repoId, snapshot, transformers, real));
        }

        foreach (var (path, why) in bad)
        {
            warnings.Add(Skip($"'{path}' of {repoId} (snapshot {snapshot.Name})", why));
        }

        return models;
    }

    ModelInfo Build(string id, string repoId, DirectoryInfo snapshot, HubModelChoice choice, Dictionary<string, string> real)
    {
        var gguf = choice.Format == "gguf";
        var entry = choice.Entry;
        // A GGUF model is its first file (split parts and the projector lie beside it); a transformers model is the snapshot folder.
        var localPath = gguf && entry is not null ? Path.Combine(snapshot.FullName, entry.Path.Replace('/', Path.DirectorySeparatorChar)) : snapshot.FullName;
        var size = choice.Files.Sum(f => f.Size);
        var model = new ModelInfo
        {
            Id = id,
            Name = repoId[(repoId.IndexOf('/') + 1)..] + (choice.Quantization is { } q ? " " + q : ""),
            Provider = choice.Provider,
            Format = choice.Format,
            Size = size,
            DiskUsage = size,
            LocalPath = localPath,
            FileName = gguf ? entry?.FileName : null,
            Checksum = choice.Files.Count == 1 && choice.Files[0].LfsSha256 is { } sha ? "sha256:" + sha : null,
            Revision = snapshot.Name,
            DownloadDate = choice.Files.Max(f => File.GetLastWriteTimeUtc(real[f.Path])),
            Description = $"{repoId} in the Hugging Face cache (snapshot {snapshot.Name})" + (choice.Files.Count > 1 ? $", {choice.Files.Count} files" : ""),
            Metadata = new ModelMetadata { Quantization = choice.Quantization },
        };
        model.AdditionalProperties["hub_repository"] = repoId;
        model.AdditionalProperties["files"] = choice.Files.Select(f => f.Path).ToArray();
        if (choice.Projector is not null)
        {
            model.AdditionalProperties["mmproj"] = choice.Projector.FileName;
        }

        return model;
    }

    /// <summary>The commit a ref names (huggingface_hub writes it without a newline); null when absent or not a commit.</summary>
    static string? ReadRef(string repoFolder, string branch)
    {
        var path = Path.Combine(repoFolder, "refs", branch);
        try
        {
            var text = File.Exists(path) ? File.ReadAllText(path).Trim() : null;
            return text is { Length: 40 } && text.All(Uri.IsHexDigit) ? text : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
