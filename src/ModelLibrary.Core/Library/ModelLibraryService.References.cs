using ModelLibrary.Catalog;
using ModelLibrary.Downloads;
using ModelLibrary.Sources;
using ModelLibrary.Sources.Hub;

namespace ModelLibrary.Library;

/// <summary>
/// One Core call per use case for models named by id or reference: find one model (no listing), describe a
/// reference (one model per quantization), plan and start a download (Core decides: already Local without -Force,
/// insecure sources, which files), search the Hub.
/// </summary>
public sealed partial class ModelLibraryService
{
    /// <summary>The Hub as configured now (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, registered HuggingFace sources).</summary>
    public HubSource OpenHub() => new(hubHttp, HubSettings.Resolve(Catalog));

    System.Net.Http.Headers.AuthenticationHeaderValue? HubAuthorization(Uri url)
    {
        try
        {
            return HubSettings.Resolve(Catalog).AuthorizationFor(url);
        }
        catch (ModelLibraryException)
        {
            return null;
        }
    }

    /// <summary>The source that answers for a reference.</summary>
    IModelSource SourceFor(ModelReference reference) => reference.Kind switch
    {
        ModelReferenceKind.HuggingFace => OpenHub(),
        ModelReferenceKind.Oci => Registries,
        _ => throw Errors.ReferenceNotDownloadable(reference.Text, reference.Kind.ToString()),
    };

    /// <summary>
    /// The model with exactly this id from the catalogs and the registry, with its state; null when neither knows it.
    /// Reads no disk and stops at the first catalog that lists the id (a fresh cached listing answers at once).
    /// </summary>
    public async Task<ModelInfo?> TryFindAsync(string id, CancellationToken cancellationToken)
    {
        var row = Models.Get(id);
        var entry = await FindCatalogEntryAsync(id, cancellationToken).ConfigureAwait(false);
        var model = entry is not null ? (row is not null ? Merge(entry, row) : entry.Clone()) : row?.Clone();
        if (model is null)
        {
            return null;
        }

        if (entry is not null && model.LocalPath is null && LocalModelScanner.ScanFolder(ModelDirectory(model), model.Provider) is { } onDisk)
        {
            // As the listing does: a catalog model whose file sits where a download puts it is that model, row or not.
            // Only this model's own folder is looked at, not the whole disk.
            model.Status = onDisk.Problem is null ? ModelStatus.Local : ModelStatus.Error;
            model.StatusMessage = onDisk.Problem;
            model.LocalPath = onDisk.Path;
            model.DiskUsage = onDisk.Bytes;
        }

        var active = Tasks.ForModel(model.Id).Where(t => !t.IsFinished).OrderByDescending(t => t.UpdatedAt).FirstOrDefault();
        DeriveState(model, active);
        return model;
    }

    async Task<ModelInfo?> FindCatalogEntryAsync(string id, CancellationToken cancellationToken)
    {
        var onlyStores = false;
        lock (cacheLock)
        {
            if (catalogCache is { } cached && DateTimeOffset.UtcNow - cached.At < CatalogCacheLifetime)
            {
                // Catalogs answer from the cache; another tool's store is asked again (it changes under us).
                if (cached.Listing.Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase)) is { ExternalStore: null } listed)
                {
                    return listed;
                }

                onlyStores = true;
            }
        }

        // The first source that lists an id owns it (see ModelCatalog.ReadAllAsync): ask them in that order, and stop.
        foreach (var source in Catalog.ListSources().Where(s => !onlyStores || ModelCatalog.IsStoreType(s.Type)))
        {
            try
            {
                if (await Catalog.Open(source).FindAsync(id, cancellationToken).ConfigureAwait(false) is { } found)
                {
                    return found.Clone();
                }
            }
            catch (ModelLibraryException)
            {
                // A broken source costs a warning in listings; here it just does not have the id.
            }
        }

        return null;
    }

    /// <summary>
    /// Get-LibraryModel of one id or reference: the catalog or registry model with that id; else the models a reference
    /// names (one per quantization for a GGUF repository), each with its state here, nothing downloaded.
    /// </summary>
    public async Task<ModelLookup> DescribeAsync(string idOrReference, CancellationToken cancellationToken)
    {
        // Catalog ids win when a string is both an id and a reference.
        if (!ModelReference.LooksLikeReference(idOrReference) || await FindCatalogEntryAsync(idOrReference, cancellationToken).ConfigureAwait(false) is not null)
        {
            return new ModelLookup(new[] { await GetAsync(idOrReference, cancellationToken).ConfigureAwait(false) }, Array.Empty<string>());
        }

        var reference = ModelReference.Parse(idOrReference);
        var source = SourceFor(reference);
        var local = DownloadedFor(reference, await StoreModelsAsync(cancellationToken).ConfigureAwait(false));
        if (source is HubSource { Settings.Offline: true })
        {
            return local.Count > 0 ? new ModelLookup(local, Array.Empty<string>()) : throw HubClient.OfflineError(reference.Text);
        }

        IReadOnlyList<ModelInfo> models;
        try
        {
            models = await source.DescribeAsync(reference, cancellationToken).ConfigureAwait(false);
        }
        catch (NetworkException e) when (local.Count > 0)
        {
            // The source is out of reach: what is downloaded still answers, as it would offline.
            return new ModelLookup(local, new[] { $"{e.Message} Showing what is downloaded here." });
        }

        var warnings = new List<string>();
        var inStores = await StoreModelsAsync(cancellationToken).ConfigureAwait(false);
        var result = models.Select(m => WithState(m, warnings, inStores)).ToList();
        return new ModelLookup(result, warnings);
    }

    /// <summary>
    /// The models other tools' stores hold now, by id (first store wins): a Hub reference already in the Hugging Face
    /// cache is Local there. Stores that cannot be read count as empty here (listings warn about them).
    /// </summary>
    async Task<Dictionary<string, ModelInfo>> StoreModelsAsync(CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, ModelInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var store in StoreSources())
        {
            try
            {
                foreach (var model in (await Catalog.Open(store).ReadAsync(cancellationToken).ConfigureAwait(false)).Models)
                {
                    found.TryAdd(model.Id, model);
                }
            }
            catch (ModelLibraryException)
            {
                // Said by the listing; here the store just holds nothing.
            }
        }

        return found;
    }

    /// <summary>Downloaded models a reference names (offline answers): its id, or every quantization of its repository.</summary>
    List<ModelInfo> DownloadedFor(ModelReference reference, Dictionary<string, ModelInfo>? inStores)
    {
        var rows = Models.List().Concat((inStores?.Values ?? Enumerable.Empty<ModelInfo>()).Where(m => Models.Get(m.Id) is null)).ToList();
        var exact = rows.Where(r => string.Equals(r.Id, reference.Id, StringComparison.OrdinalIgnoreCase)).ToList();
        var found = exact.Count > 0 || reference.Quantization is not null || reference.FilePath is not null
            ? exact
            : rows.Where(r => r.Id.StartsWith(reference.Id + ":", StringComparison.OrdinalIgnoreCase)).ToList();
        return found.Select(r =>
        {
            var m = r.Clone();
            DeriveState(m, null);
            return m;
        }).ToList();
    }

    /// <summary>A source's model with what this library knows of it (its row: Local, where, which revision).</summary>
    ModelInfo WithState(ModelInfo model, List<string> warnings, Dictionary<string, ModelInfo>? inStores = null)
    {
        var row = Models.Get(model.Id);
        if (row is null && inStores is not null && inStores.TryGetValue(model.Id, out var stored))
        {
            // Already in another tool's store (the Hugging Face cache): Local there, as that store read it.
            row = stored;
        }

        var merged = row is null ? model.Clone() : Merge(model, row);
        if (row is not null && row.ExternalStore is not null)
        {
            merged.ExternalStore = row.ExternalStore;
            merged.Source = row.Source;
        }
        var active = Tasks.ForModel(merged.Id).Where(t => !t.IsFinished).OrderByDescending(t => t.UpdatedAt).FirstOrDefault();
        DeriveState(merged, active);
        if (merged.AdditionalProperties.TryGetValue("SourceRevision", out var moved) && moved is string now)
        {
            warnings.Add($"'{merged.Id}' is at revision {merged.Revision} here; the source is now at {now}. Start-ModelDownload -Force fetches the new one.");
        }

        return merged;
    }

    /// <summary>
    /// Start-ModelDownload of an id or reference: what would be downloaded and whether it should be. Core's policy:
    /// a model already Local is not downloaded again without <paramref name="force"/>; the insecure-http allowance
    /// comes from the model's source registration; a reference resolves to its files (pinned to one commit).
    /// </summary>
    public async Task<DownloadPlan> PlanDownloadAsync(string idOrReference, bool force, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        var known = await TryFindAsync(idOrReference, cancellationToken).ConfigureAwait(false);
        ModelReference? reference = null;
        if (known is null && ModelReference.LooksLikeReference(idOrReference))
        {
            reference = ModelReference.Parse(idOrReference);
            known = await TryFindAsync(reference.Id, cancellationToken).ConfigureAwait(false);
        }
        else if (known is not null && IsReferenceModel(known))
        {
            reference = ModelReference.Parse(known.Id);
        }

        if (known is null && reference is null)
        {
            known = await GetAsync(idOrReference, cancellationToken).ConfigureAwait(false);
        }

        if (known is { Status: ModelStatus.Local } && !force && (reference?.Revision is null || RevisionMatches(known, reference.Revision)))
        {
            return new DownloadPlan(known, null, AlreadyLocal: true, warnings);
        }

        if (reference is null)
        {
            var resolvedCatalogModel = ResolvedModel.SingleFile(known!, AllowsInsecureHttp(known!.Source));
            return new DownloadPlan(known!, resolvedCatalogModel, AlreadyLocal: false, warnings);
        }

        var source = SourceFor(reference);
        if (source is HubSource { Settings.Offline: true })
        {
            throw HubClient.OfflineError(reference.Text);
        }

        var resolved = await source.ResolveAsync(reference, cancellationToken).ConfigureAwait(false);
        var model = WithState(resolved.Model, warnings, await StoreModelsAsync(cancellationToken).ConfigureAwait(false));
        // A revision asked for is matched by the commit it names now (a tag, refs/pr/1), not only by its spelling.
        if (model.Status == ModelStatus.Local && !force
            && (reference.Revision is null || RevisionMatches(model, reference.Revision) || (resolved.Model.Revision is { } now && RevisionMatches(model, now))))
        {
            return new DownloadPlan(model, null, AlreadyLocal: true, warnings);
        }

        // What lands is what was resolved now: its revision, its files.
        model.Revision = resolved.Model.Revision;
        return new DownloadPlan(model, resolved with { Model = model }, AlreadyLocal: false, warnings);
    }

    /// <summary>
    /// Start-ModelDownload -Uri: one file from a URL as a library model. Verified against <paramref name="checksum"/>,
    /// else against the SHA-256 the server states (<c>X-Linked-Etag</c> of an LFS file on the Hub), else the computed
    /// one is recorded. Only http(s); plain http to loopback only.
    /// </summary>
    public async Task<DownloadPlan> PlanUrlDownloadAsync(string url, string? id, string? checksum, string? provider, bool force, CancellationToken cancellationToken)
    {
        var reference = ModelReference.ParseUrl(url);
        Preflight.CheckSource(reference.Url!, allowInsecureHttp: false, id ?? url);
        var fileName = ModelFileNames.FromUrl(reference.Url!.AbsoluteUri);
        ModelReference.CheckRelativePath(fileName, url);
        var modelId = id ?? ModelImporter.SuggestId(fileName);
        if (!ModelNames.IsValidId(modelId))
        {
            throw Errors.InvalidModelId(modelId);
        }

        var expected = checksum is null ? null : Sha256Checksum.Normalize(checksum) ?? throw Errors.InvalidChecksum(checksum);
        var existing = await TryFindAsync(modelId, cancellationToken).ConfigureAwait(false);
        if (existing is not null && !string.Equals(existing.DownloadUrl, reference.Url.AbsoluteUri, StringComparison.Ordinal) && existing.Source != UrlSourceName)
        {
            throw Errors.IdTakenBySource(modelId, existing.Source);
        }

        if (existing is { Status: ModelStatus.Local } && !force)
        {
            return new DownloadPlan(existing, null, AlreadyLocal: true, Array.Empty<string>());
        }

        var stated = expected is null ? await UrlProbe.StatedAsync(reference.Url, modelId, HubAuthorization, cancellationToken).ConfigureAwait(false) : default;
        var format = ModelFileNames.FormatOf(fileName);
        var model = new ModelInfo
        {
            Id = modelId,
            Name = fileName,
            Provider = provider ?? (format is "gguf" ? "llama-cpp" : "transformers"),
            Format = format,
            FileName = fileName,
            DownloadUrl = reference.Url.AbsoluteUri,
            Checksum = expected ?? stated.Sha256,
            Size = stated.Size,
            Source = UrlSourceName,
            Description = $"Downloaded from {reference.Url.Host}.",
        };
        return new DownloadPlan(model, ResolvedModel.SingleFile(model, allowInsecureHttp: false), AlreadyLocal: false, Array.Empty<string>());
    }

    /// <summary>
    /// Start-ModelDownload of an id or reference in one call: plans it (<see cref="PlanDownloadAsync"/>), asks
    /// <paramref name="shouldStart"/> whether to start what was planned (the cmdlet's ShouldProcess: -WhatIf and -Confirm
    /// answer there, as PSResourceGet's helpers take the cmdlet's ShouldProcess), then starts it. Nothing is asked when
    /// the model is already Local (without -Force); nothing starts when the answer is no.
    /// </summary>
    public async Task<DownloadStart> DownloadAsync(string idOrReference, bool force, long? maxBytesPerSecond, Func<DownloadPlan, Task<bool>> shouldStart, CancellationToken cancellationToken)
    {
        var plan = await PlanDownloadAsync(idOrReference, force, cancellationToken).ConfigureAwait(false);
        return await StartIfAgreedAsync(plan, maxBytesPerSecond, shouldStart, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Start-ModelDownload -Uri in one call: <see cref="PlanUrlDownloadAsync"/>, <paramref name="shouldStart"/>, start.</summary>
    public async Task<DownloadStart> DownloadUrlAsync(string url, string? id, string? checksum, string? provider, bool force, long? maxBytesPerSecond,
        Func<DownloadPlan, Task<bool>> shouldStart, CancellationToken cancellationToken)
    {
        var plan = await PlanUrlDownloadAsync(url, id, checksum, provider, force, cancellationToken).ConfigureAwait(false);
        return await StartIfAgreedAsync(plan, maxBytesPerSecond, shouldStart, cancellationToken).ConfigureAwait(false);
    }

    async Task<DownloadStart> StartIfAgreedAsync(DownloadPlan plan, long? maxBytesPerSecond, Func<DownloadPlan, Task<bool>> shouldStart, CancellationToken cancellationToken)
    {
        // The answer may take a person's time (a -Confirm prompt); a cancelled call stops waiting for it.
        if (plan.AlreadyLocal || !await shouldStart(plan).WaitAsync(cancellationToken).ConfigureAwait(false))
        {
            return new DownloadStart(plan, null);
        }

        return new DownloadStart(plan, await StartDownloadAsync(plan, maxBytesPerSecond, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The <c>Source</c> of a model downloaded with -Uri.</summary>
    public const string UrlSourceName = "url";

    /// <summary>Starts what a plan resolved; returns the task at once (Pending until a slot is free).</summary>
    public Task<DownloadTask> StartDownloadAsync(DownloadPlan plan, CancellationToken cancellationToken) => StartDownloadAsync(plan, null, cancellationToken);

    /// <summary>As <see cref="StartDownloadAsync(DownloadPlan, CancellationToken)"/>, held to <paramref name="maxBytesPerSecond"/> bytes per second (null: the configured limit).</summary>
    public Task<DownloadTask> StartDownloadAsync(DownloadPlan plan, long? maxBytesPerSecond, CancellationToken cancellationToken)
    {
        if (plan.Resolved is null)
        {
            throw new InvalidOperationException($"'{plan.Model.Id}' is already Local; nothing to start.");
        }

        return Downloads.StartAsync(DownloadRequest.FromResolved(plan.Resolved) with { MaxBytesPerSecond = maxBytesPerSecond is > 0 ? maxBytesPerSecond : null }, plan.Model, cancellationToken);
    }

    /// <summary>Resume-ModelDownload: continues a task with its model as the library knows it now (null: from the saved state).</summary>
    public async Task<DownloadTask> ResumeDownloadAsync(string taskId, CancellationToken cancellationToken)
    {
        var task = await Downloads.GetTaskAsync(taskId, cancellationToken).ConfigureAwait(false);
        var model = await TryFindAsync(task.ModelId, cancellationToken).ConfigureAwait(false);
        return await Downloads.ResumeAsync(taskId, model, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Find-LibraryModel: repositories on the Hub, one model each, with their state here.</summary>
    public async Task<IReadOnlyList<ModelInfo>> SearchAsync(string? query, string? format, int first, CancellationToken cancellationToken)
    {
        var hub = OpenHub();
        if (hub.Settings.Offline)
        {
            throw HubClient.OfflineError(query ?? "");
        }

        var found = await hub.SearchAsync(query, format, first, cancellationToken).ConfigureAwait(false);
        var ignored = new List<string>();
        return found.Select(m => WithState(m, ignored)).ToList();
    }

    bool AllowsInsecureHttp(string? sourceName) =>
        sourceName is not null && Catalog.ListSources().Any(s => s.AllowInsecureHttp && string.Equals(s.Name, sourceName, StringComparison.OrdinalIgnoreCase));

    static bool IsReferenceModel(ModelInfo model) =>
        (model.AdditionalProperties.ContainsKey("hub_repository") || model.AdditionalProperties.ContainsKey(ModelLibrary.Sources.Oci.OciRegistries.RepositoryKey))
        && ModelReference.LooksLikeReference(model.Id);

    static bool RevisionMatches(ModelInfo model, string revision) =>
        model.Revision is { } have && (string.Equals(have, revision, StringComparison.OrdinalIgnoreCase)
            || (revision.Length >= 7 && have.StartsWith(revision, StringComparison.OrdinalIgnoreCase)));
}

/// <summary>The models one id or reference names, and what the caller should be warned of (a branch that moved).</summary>
public sealed record ModelLookup(IReadOnlyList<ModelInfo> Models, IReadOnlyList<string> Warnings);

/// <summary>What one Start-ModelDownload call did: the plan, and the task it started (null: already Local, or declined).</summary>
public sealed record DownloadStart(DownloadPlan Plan, DownloadTask? Task);

/// <summary>
/// What Start-ModelDownload would do: <see cref="AlreadyLocal"/> (nothing, without -Force), or start
/// <see cref="Resolved"/> (the model and its files).
/// </summary>
public sealed record DownloadPlan(ModelInfo Model, ResolvedModel? Resolved, bool AlreadyLocal, IReadOnlyList<string> Warnings)
{
    /// <summary>For -WhatIf and -Confirm: what and from where.</summary>
    public string Description
    {
        get
        {
            var files = Resolved?.Files ?? Array.Empty<RemoteModelFile>();
            var size = files.Count > 0 && files.All(f => f.Size is not null) ? files.Sum(f => f.Size!.Value) : Model.Size;
            var what = size is { } s ? ByteSize.Format(s) : "a file of unknown size";
            var from = files.Count > 1 ? $"{files.Count} files from {files[0].Url.Host}" : $"from {(files.FirstOrDefault() is { } first ? Net.SafeUrl.Masked(first.Url) : Model.DownloadUrl)}";
            return $"Download {what} ({from})" + (Model.Revision is { } r ? $" at revision {r}" : "");
        }
    }
}
