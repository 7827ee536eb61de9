using ModelLibrary.Catalog;
using ModelLibrary.Compatibility;
using ModelLibrary.Configuration;
using ModelLibrary.Downloads;
using ModelLibrary.Files;
using ModelLibrary.Registry;
using ModelLibrary.Validation;

namespace ModelLibrary.Library;

/// <summary>
/// One library: its configuration, registry, catalog and folders. Lists models by deriving each one's state from
/// the catalog, the registry rows, the download tasks and the files on disk, and removes models safely.
/// </summary>
public sealed partial class ModelLibraryService
{
    /// <summary>Catalogs are re-read after this long; keeps tab completion and repeated queries quick.</summary>
    static readonly TimeSpan CatalogCacheLifetime = TimeSpan.FromSeconds(30);

    readonly object cacheLock = new();
    (DateTimeOffset At, CatalogListing Listing)? catalogCache;
    IReadOnlyList<string>? warnedFor;
    readonly Lazy<ProviderRegistry> providerRegistry;
    readonly Lazy<CompatibilityService> compatibility;

    readonly Lazy<DownloadManager> downloads;
    // The client Hub and registry sources use (the module's one shared client).
    readonly HttpClient hubHttp;

    /// <param name="downloadGate">
    /// The transfer slots; one per process, so that MaxConcurrentDownloads bounds every download of the session.
    /// </param>
    public ModelLibraryService(LibraryConfiguration configuration, HttpClient http, ConcurrencyGate? downloadGate = null)
    {
        Configuration = configuration;
        hubHttp = http;
        Database = new RegistryDatabase(configuration.RegistryPath);
        Models = new ModelStore(Database);
        Tasks = new TaskStore(Database);
        Sources = new SourceStore(Database);
        Providers = new ProviderStore(Database);
        // The catalog opens the source types above it (registries, other tools' stores) through what is handed here.
        // Registries needs the catalog and is set right after it; the catalog opens a source only later, on use.
        var stores = ModelLibrary.Sources.Stores.StoreSources.Types;
        Catalog = new ModelCatalog(Sources, http, new SourceTypes(
            info => info.Type == ModelCatalog.OciType ? new ModelLibrary.Sources.Oci.OciCatalogSource(info, Registries!) : stores.Open(info),
            stores.DefaultFolder));
        Registries = new ModelLibrary.Sources.Oci.OciRegistries(Catalog);
        DownloadStore = new RegistryDownloadStore(Tasks, Models);
        MetadataCache = new MetadataCache(configuration.MetadataDirectory);
        downloads = new(() => new DownloadManager(Configuration, DownloadStore, DownloadStore, new DownloadOptions
        {
            Validator = new DownloadValidator(() => Configuration),
            Gate = downloadGate,
            // The Hub token for the Hub's own host, a registry's login for its blobs; read at each request (never saved
            // with a download).
            Authorize = async (url, ct) => HubAuthorization(url) ?? await Registries.AuthorizationForAsync(url, ct).ConfigureAwait(false),
            // A registry token that dies mid-download: one fresh login, then AuthenticationRequired naming the registry.
            Reauthorize = Registries.ReauthorizeAsync,
        }));
        // Built on first use: most cmdlets never score a model, and the health cache should live as long as this service.
        providerRegistry = new(() => new ProviderRegistry(Providers));
        compatibility = new(() => new CompatibilityService(providerRegistry.Value, SystemMachineResources.Instance, Configuration));
    }

    public LibraryConfiguration Configuration { get; private set; }
    public RegistryDatabase Database { get; }
    public ModelStore Models { get; }
    public TaskStore Tasks { get; }
    public SourceStore Sources { get; }
    public ProviderStore Providers { get; }
    public ModelCatalog Catalog { get; }

    /// <summary>OCI registries, registered or named by reference; one per library service, so registry tokens are reused.</summary>
    public ModelLibrary.Sources.Oci.OciRegistries Registries { get; }
    public RegistryDownloadStore DownloadStore { get; }

    /// <summary>Headers read by Get-ModelMetadata, under metadata/; entries go when their model is removed or replaced.</summary>
    public MetadataCache MetadataCache { get; }

    /// <summary>The download engine of this library; created on first use, kept for the life of the service.</summary>
    public DownloadManager Downloads => downloads.Value;

    /// <summary>
    /// Takes a changed configuration for the same folders (running downloads keep going and see the new limits);
    /// false when a folder moved, which makes another library and needs a new service.
    /// </summary>
    public bool TryReconfigure(LibraryConfiguration configuration)
    {
        if (!configuration.WritableRoots.SequenceEqual(Configuration.WritableRoots, StringComparer.Ordinal))
        {
            return false;
        }

        Configuration = configuration;
        if (downloads.IsValueCreated)
        {
            downloads.Value.Reconfigure(configuration);
        }

        InvalidateCatalog();
        return true;
    }

    /// <summary>Built-in providers plus those registered in this library's registry.</summary>
    public ProviderRegistry ProviderRegistry => providerRegistry.Value;

    /// <summary>Scoring, suggestions and integration status against this machine; free disk is read on each provider's folder.</summary>
    public CompatibilityService Compatibility => compatibility.Value;

    /// <summary>The integration self-test over this library: its models, folders, registry file and providers.</summary>
    public IntegrationSelfTest CreateSelfTest() => new(Compatibility, Configuration,
        async ct => (await ListAsync(ct).ConfigureAwait(false)).Models,
        _ => Task.FromResult(RegistryHealth.Describe(Database)));

    /// <summary>The folder a model's files live in: <c>&lt;provider folder&gt;/&lt;id&gt;</c>, so equal file names never collide.</summary>
    public string ModelDirectory(ModelInfo model) => Path.Combine(Configuration.ProviderDirectory(model.Provider), ModelNames.FolderName(model.Id));

    public void InvalidateCatalog()
    {
        lock (cacheLock)
        {
            catalogCache = null;
        }
    }

    public Task<CatalogListing> ReadCatalogAsync(CancellationToken cancellationToken) => ReadCatalogAsync(null, cancellationToken);

    /// <summary>
    /// The catalogs' models, from this session's cache while it is fresh. With <paramref name="budget"/> no source is
    /// waited for longer (tab completion answers from what is cached or fast; see <see cref="ModelCatalog.ReadAllAsync(TimeSpan?, CancellationToken)"/>).
    /// </summary>
    public async Task<CatalogListing> ReadCatalogAsync(TimeSpan? budget, CancellationToken cancellationToken)
    {
        CatalogListing? fromCache = null;
        lock (cacheLock)
        {
            if (catalogCache is { } cached && DateTimeOffset.UtcNow - cached.At < CatalogCacheLifetime)
            {
                fromCache = cached.Listing with { Diagnostics = new[] { $"Catalogs from this session's cache ({(DateTimeOffset.UtcNow - cached.At).TotalSeconds:0} s old)." } };
            }
        }

        if (fromCache is not null)
        {
            // Other tools' stores change under us (a pull, a delete): they are read again each time, catalogs are not.
            return await WithFreshStoresAsync(fromCache, cancellationToken).ConfigureAwait(false);
        }

        var listing = await Catalog.ReadAllAsync(budget, cancellationToken).ConfigureAwait(false);
        if (listing.Complete)
        {
            // A listing with a source left out is not kept: the next command asks that source again.
            lock (cacheLock)
            {
                catalogCache = (DateTimeOffset.UtcNow, listing);
            }
        }

        return listing;
    }

    /// <summary>The registered stores of other tools (OllamaStore, HuggingFaceCache, LMStudio, Directory), oldest first.</summary>
    IReadOnlyList<ModelSourceInfo> StoreSources() => Catalog.ListSources().Where(s => ModelCatalog.IsStoreType(s.Type)).ToList();

    /// <summary>A cached catalog listing with the stores' models read again now (first lister still wins).</summary>
    async Task<CatalogListing> WithFreshStoresAsync(CatalogListing listing, CancellationToken cancellationToken)
    {
        var stores = StoreSources();
        if (stores.Count == 0)
        {
            return listing;
        }

        var names = new HashSet<string>(stores.Select(s => s.Name), StringComparer.OrdinalIgnoreCase);
        var models = listing.Models.Where(m => m.Source is null || !names.Contains(m.Source)).ToList();
        var seen = new HashSet<string>(models.Select(m => m.Id), StringComparer.OrdinalIgnoreCase);
        var warnings = listing.Warnings.Where(w => !stores.Any(s => w.StartsWith($"Source '{s.Name}'", StringComparison.OrdinalIgnoreCase) || w.StartsWith($"Model source '{s.Name}'", StringComparison.OrdinalIgnoreCase))).ToList();
        foreach (var store in stores)
        {
            try
            {
                var read = await Catalog.Open(store).ReadAsync(cancellationToken).ConfigureAwait(false);
                warnings.AddRange(read.Warnings);
                foreach (var model in read.Models)
                {
                    if (seen.Add(model.Id))
                    {
                        models.Add(model);
                    }
                    else
                    {
                        warnings.Add($"Source '{store.Name}': the id '{model.Id}' is already listed by an earlier source; its entry is ignored.");
                    }
                }
            }
            catch (ModelLibraryException e)
            {
                warnings.Add(e.Message);
            }
        }

        return listing with { Models = models, Warnings = warnings };
    }

    /// <summary>Every model the library knows, each with its derived state, plus the warnings of the catalogs.</summary>
    public Task<ModelListing> ListAsync(CancellationToken cancellationToken) => ListAsync(null, cancellationToken);

    /// <inheritdoc cref="ListAsync(CancellationToken)"/>
    /// <param name="catalogBudget">Wait no longer for any catalog (tab completion); see <see cref="ReadCatalogAsync(TimeSpan?, CancellationToken)"/>.</param>
    public async Task<ModelListing> ListAsync(TimeSpan? catalogBudget, CancellationToken cancellationToken)
    {
        var catalog = await ReadCatalogAsync(catalogBudget, cancellationToken).ConfigureAwait(false);
        var rows = Models.List().ToDictionary(m => m.Id, StringComparer.OrdinalIgnoreCase);
        IReadOnlyList<DownloadTask> unfinished = Tasks.List().Where(t => !t.IsFinished).ToList();
        if (unfinished.Any(t => t.Status != DownloadStatus.Paused))
        {
            // A task whose process died is settled Paused here too, so this listing agrees with Get-ModelDownload.
            unfinished = await Downloads.SettleOrphansAsync(unfinished, cancellationToken).ConfigureAwait(false);
        }

        // Only a task that moves makes its model Downloading; a paused one leaves it as it was (Available, or Local
        // during a -Force download), with a note of where it stopped.
        var activeTasks = unfinished.GroupBy(t => t.ModelId, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.UpdatedAt).First(), StringComparer.OrdinalIgnoreCase);

        var models = new List<ModelInfo>();
        var byId = new Dictionary<string, ModelInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in catalog.Models)
        {
            var model = rows.TryGetValue(entry.Id, out var row) ? Merge(entry, row) : entry.Clone();
            models.Add(model);
            byId[model.Id] = model;
        }

        foreach (var row in rows.Values.Where(r => !byId.ContainsKey(r.Id)))
        {
            // Imported models and models of a source that is gone: the row is all we know.
            var model = row.Clone();
            models.Add(model);
            byId[model.Id] = model;
        }

        AddUnregisteredFiles(models, byId);

        foreach (var model in models)
        {
            DeriveState(model, activeTasks.GetValueOrDefault(model.Id));
        }

        return new ModelListing(models, catalog.Warnings.Distinct(StringComparer.Ordinal).ToList()) { Diagnostics = catalog.Diagnostics, CatalogWarnings = catalog.Warnings };
    }

    /// <summary>
    /// The one model with this exact id, with its state: a catalog entry or registry row (no disk scan, catalogs read
    /// in order only until one lists it), else a file found on disk, else a downloaded reference. ModelNotFound when none.
    /// Never asks a Hub or registry: the model must be known here (see <see cref="DescribeAsync"/> for references).
    /// </summary>
    public async Task<ModelInfo> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (await TryFindAsync(id, cancellationToken).ConfigureAwait(false) is { } known)
        {
            return known;
        }

        if (ModelLibrary.ModelReference.LooksLikeReference(id) && ModelLibrary.ModelReference.Parse(id) is { } reference
            && await TryFindAsync(reference.Id, cancellationToken).ConfigureAwait(false) is { } downloaded)
        {
            return downloaded;
        }

        // Files found on disk have ids only a scan can tell.
        var listing = await ListAsync(cancellationToken).ConfigureAwait(false);
        return listing.Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase))
            ?? throw Errors.ModelNotFound(id);
    }

    /// <summary>
    /// What <see cref="Remove"/> would delete: the model's file or folder, its folder in the provider directory,
    /// partial downloads and their state, and anything in quarantine. Every path is checked to be inside the library.
    /// </summary>
    public IReadOnlyList<string> PathsToRemove(ModelInfo model)
    {
        if (model.ExternalStore is not null)
        {
            throw Errors.ExternalStore(model, "remove");
        }

        var paths = new List<string>();
        // A file registered in place outside the library (Import-LibraryModel -InPlace) is the user's: removal unregisters it only.
        if (model.LocalPath is { } local && !IsOutsideLibrary(model))
        {
            paths.Add(local);
        }

        paths.Add(ModelDirectory(model));
        // The partial and its resume state; the lock file stays, since another process may be about to take it.
        var staging = DownloadPaths.StagingFor(Configuration, model.Id);
        paths.Add(staging.Partial);
        paths.Add(staging.State);
        // Quarantine keeps a model under quarantine/<id>/; the exact folder, not a prefix match that would take
        // 'tinyllama-1.1b-chat-q4' along with 'tinyllama'.
        paths.Add(Path.Combine(Configuration.QuarantineDirectory, ModelNames.FolderName(model.Id)));

        var existing = paths.Where(p => File.Exists(p) || Directory.Exists(p) || new FileInfo(p).LinkTarget is not null)
            .Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).ToList();
        foreach (var path in existing)
        {
            // A link in the library that leads out is removed as a link: the file it leads to stays untouched.
            PathContainment.EnsureRemovable(path, Configuration.WritableRoots);
        }

        return existing;
    }

    /// <summary>
    /// True when the model's file lies outside every library folder as written (it was imported with -InPlace). The
    /// library reads such a file but never moves or deletes it. A link inside the library that leads out is not this.
    /// </summary>
    public bool IsOutsideLibrary(ModelInfo model) =>
        model.LocalPath is { } local && !Configuration.WritableRoots.Any(root => PathContainment.IsInsideAsWritten(local, root));

    /// <summary>
    /// Deletes the model's files and partials, then sets its row back to Available, or removes the row when no
    /// catalog knows the model. Returns the model as it now stands, or null when it is gone from the library.
    /// </summary>
    public async Task<ModelInfo?> RemoveAsync(ModelInfo model, CancellationToken cancellationToken)
    {
        // Check every path before deleting any, so a refused path leaves everything as it was.
        var paths = PathsToRemove(model);
        // A library this session may only read: say so before anything is touched.
        Database.EnsureWritable();
        // Told before the files go: for a model folder, which file is the entry is read from the folder.
        var cachedEntry = model.LocalPath is { } local ? ModelFiles.TryEntryFile(local) : null;

        // A download of the model stops first (its partial goes with it); one another process runs is refused there.
        foreach (var task in Tasks.ForModel(model.Id).Where(t => !t.IsFinished))
        {
            await Downloads.CancelAsync(task.TaskId, cancellationToken).ConfigureAwait(false);
        }

        foreach (var path in paths)
        {
            if (Directory.Exists(path) && new DirectoryInfo(path).LinkTarget is null)
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }

        // Also when the file stays (registered in place outside the library): reading its header again later is cheap.
        if (cachedEntry is not null)
        {
            MetadataCache.Remove(cachedEntry);
        }

        var entry = await FindCatalogEntryAsync(model.Id, cancellationToken).ConfigureAwait(false);
        if (entry is null)
        {
            Models.Delete(model.Id);
            return null;
        }

        if (Models.Get(model.Id) is not null)
        {
            Models.Update(model.Id, () => null, row =>
            {
                row.Status = ModelStatus.Available;
                row.LocalPath = null;
                row.DiskUsage = null;
                row.DownloadDate = null;
                row.StatusMessage = null;
                row.DownloadProgress = null;
            });
        }

        // The model as it now stands, found by its id alone (no listing of every catalog and the disk).
        return await TryFindAsync(model.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The warnings of a listing that the user has not been told yet: once per read of the sources. A listing served
    /// from the cache of the same read has said them already (a bad entry warned at every Get-LibraryModel).
    /// </summary>
    public IReadOnlyList<string> WarningsOnce(ModelListing listing)
    {
        lock (cacheLock)
        {
            if (listing.CatalogWarnings is null || ReferenceEquals(warnedFor, listing.CatalogWarnings))
            {
                return listing.CatalogWarnings is null ? listing.Warnings : Array.Empty<string>();
            }

            warnedFor = listing.CatalogWarnings;
        }

        return listing.Warnings;
    }

    static ModelInfo Merge(ModelInfo entry, ModelInfo row)
    {
        var model = entry.Clone();
        if (entry.ExternalStore is not null && (row.LocalPath is null || string.Equals(Path.GetFullPath(row.LocalPath), Path.GetFullPath(entry.LocalPath ?? ""), StringComparison.Ordinal)))
        {
            // Another tool's model with a row of its own (a measurement, say): the store says where its file is and that
            // it is there; the row adds what the library learnt. It stays the other tool's (ExternalStore).
            model.LastUsed = row.LastUsed;
            model.Metadata.FillGapsFrom(row.Metadata);
            return model;
        }

        // The revision of the bytes on disk is what the model is; where the source's branch is now is told beside it.
        if (row.Revision is not null && row.LocalPath is not null)
        {
            if (entry.Revision is not null && !string.Equals(entry.Revision, row.Revision, StringComparison.OrdinalIgnoreCase))
            {
                model.AdditionalProperties["SourceRevision"] = entry.Revision;
            }

            model.Revision = row.Revision;
        }

        model.ExternalStore = row.ExternalStore;
        model.Status = row.Status;
        model.LocalPath = row.LocalPath;
        model.DiskUsage = row.DiskUsage;
        model.DownloadDate = row.DownloadDate;
        model.LastUsed = row.LastUsed;
        model.StatusMessage = row.StatusMessage;
        // What the library learnt itself (a computed checksum, values read from the file, per-file checksums of an
        // import) fills gaps in the catalog, never overrides it.
        model.Checksum ??= row.Checksum;
        model.Metadata.FillGapsFrom(row.Metadata);
        foreach (var extra in row.AdditionalProperties.Where(p => !model.AdditionalProperties.ContainsKey(p.Key)))
        {
            model.AdditionalProperties[extra.Key] = extra.Value;
        }

        return model;
    }

    void AddUnregisteredFiles(List<ModelInfo> models, Dictionary<string, ModelInfo> byId)
    {
        var known = new HashSet<string>(models.Where(m => m.LocalPath is not null).Select(m => Path.GetFullPath(m.LocalPath!)), StringComparer.Ordinal);
        var folders = new[] { (ModelFileNames.LlamaCpp, Configuration.LlamaCppModelsDirectory), (ModelFileNames.Transformers, Configuration.TransformersModelsDirectory) };
        foreach (var (provider, folder) in folders)
        {
            foreach (var found in LocalModelScanner.Scan(folder, provider))
            {
                if (known.Contains(found.Path) || known.Any(k => PathContainment.IsInside(k, found.Path)))
                {
                    continue;
                }

                // A catalog model whose file sits where a download would put it is that model, even without a row.
                if (byId.TryGetValue(found.SuggestedId, out var catalogModel) && catalogModel.LocalPath is null &&
                    IsAtOrInside(found.Path, ModelDirectory(catalogModel)))
                {
                    catalogModel.Status = found.Problem is null ? ModelStatus.Local : ModelStatus.Error;
                    catalogModel.StatusMessage = found.Problem;
                    catalogModel.LocalPath = found.Path;
                    catalogModel.DiskUsage = found.Bytes;
                    continue;
                }

                var id = found.SuggestedId;
                if (byId.ContainsKey(id))
                {
                    id += "-local";
                }

                var model = new ModelInfo
                {
                    Id = id,
                    Name = Path.GetFileName(found.Path),
                    Provider = found.Provider,
                    Size = found.Bytes,
                    // A file that fails its header check is no model to use: listed, with the reason.
                    Status = found.Problem is null ? ModelStatus.Local : ModelStatus.Error,
                    StatusMessage = found.Problem,
                    LocalPath = found.Path,
                    DiskUsage = found.Bytes,
                    Format = found.Format,
                    FileName = Path.GetFileName(found.Path),
                    Source = "local",
                    Description = "Found on disk; not listed by any catalog.",
                };
                models.Add(model);
                byId[id] = model;
            }
        }
    }

    static bool IsAtOrInside(string path, string folder) =>
        string.Equals(Path.GetFullPath(path), Path.GetFullPath(folder), StringComparison.Ordinal) || PathContainment.IsInside(path, folder);

    static void DeriveState(ModelInfo model, DownloadTask? task)
    {
        if (task is { Status: DownloadStatus.Pending or DownloadStatus.Downloading or DownloadStatus.Verifying })
        {
            model.Status = ModelStatus.Downloading;
            model.DownloadProgress = task.Progress;
            return;
        }

        model.DownloadProgress = null;
        if (task is { Status: DownloadStatus.Paused })
        {
            model.StatusMessage ??= $"Download paused at {task.Progress:P0}; continue it with Resume-ModelDownload -TaskId {task.TaskId}.";
        }

        if (model.Status == ModelStatus.Downloading)
        {
            // A row left 'downloading' with no task behind it would lie; nothing is being downloaded.
            model.Status = model.LocalPath is not null && (File.Exists(model.LocalPath) || Directory.Exists(model.LocalPath)) ? ModelStatus.Local : ModelStatus.Available;
        }

        if (model.Status == ModelStatus.Local && model.LocalPath is not null && !File.Exists(model.LocalPath) && !Directory.Exists(model.LocalPath))
        {
            model.Status = ModelStatus.Error;
            model.StatusMessage = model.ExternalStore is { } store
                ? $"The model's file '{model.LocalPath}' is no longer in {store}'s store (removed since it was listed)."
                : $"The model's file '{model.LocalPath}' is missing. Run Remove-LibraryModel, or Start-ModelDownload -Force.";
        }
    }
}

/// <summary>The models of one listing and the catalog warnings met on the way.</summary>
public sealed record ModelListing(IReadOnlyList<ModelInfo> Models, IReadOnlyList<string> Warnings)
{
    /// <summary>Which sources were read, from where (URLs masked) and how long each took, for -Verbose.</summary>
    public IReadOnlyList<string> Diagnostics { get; init; } = Array.Empty<string>();

    /// <summary>
    /// The warnings list of the read of the sources this listing came from: the same object for every listing served
    /// from that read's cache (see <see cref="ModelLibraryService.WarningsOnce"/>).
    /// </summary>
    public IReadOnlyList<string>? CatalogWarnings { get; init; }
}
