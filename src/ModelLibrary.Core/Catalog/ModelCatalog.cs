using ModelLibrary.Registry;

namespace ModelLibrary.Catalog;

/// <summary>
/// All model sources: the built-in catalog first, then registered sources in the order they were added. Reads them
/// one by one so that a broken source costs a warning, never the others.
/// </summary>
public sealed class ModelCatalog
{
    public const string BuiltInType = "BuiltIn";
    public const string FileType = "File";
    public const string HttpType = "Http";
    public const string HuggingFaceType = "HuggingFace";
    public const string OciType = "Oci";
    public const string OllamaStoreType = "OllamaStore";
    public const string HuggingFaceCacheType = "HuggingFaceCache";
    public const string LMStudioType = "LMStudio";
    public const string DirectoryType = "Directory";

    /// <summary>Source types that are another tool's store (or a folder) read in place; their -Uri is a folder.</summary>
    public static readonly string[] StoreTypes = { OllamaStoreType, HuggingFaceCacheType, LMStudioType, DirectoryType };

    public static bool IsStoreType(string? type) => type is not null && StoreTypes.Contains(type, StringComparer.OrdinalIgnoreCase);

    /// <summary>Source types whose -Uri is a service (a hub, a registry) rather than a catalog.</summary>
    static readonly string[] ServiceTypes = { HuggingFaceType, OciType };

    readonly SourceStore store;
    readonly HttpClient http;
    readonly SourceTypes? others;
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, SourceReadState> reads = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="others">
    /// The source types that live above the catalog (other tools' stores), given by the library that composes them, so
    /// the catalog never reaches up into <c>Sources</c>.
    /// </param>
    public ModelCatalog(SourceStore store, HttpClient http, SourceTypes? others = null)
    {
        this.store = store;
        this.http = http;
        this.others = others;
    }

    public static ModelSourceInfo BuiltIn { get; } = new()
    {
        Name = BuiltInCatalogSource.SourceName,
        Uri = "module://ModelLibrary/catalog-seed.json",
        Type = BuiltInType,
        IsBuiltIn = true,
    };

    public IReadOnlyList<ModelSourceInfo> ListSources() =>
        new[] { BuiltIn }.Concat(store.List().Select(r => new ModelSourceInfo
        {
            Name = r.Name,
            Uri = r.Uri,
            Type = r.Type,
            AllowInsecureHttp = r.AllowInsecureHttp,
            Added = r.Added,
            HasCredential = r.Credential is not null,
        })).ToList();

    /// <summary>Registered sources of one type with their credentials, oldest first (for the Hub and registries).</summary>
    public IReadOnlyList<SourceRecord> Records(string type) =>
        store.List().Where(r => string.Equals(r.Type, type, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>
    /// Checks and stores a new source. The catalog is not fetched here: a source that is down today may be up
    /// tomorrow, and registering should not depend on the network.
    /// </summary>
    public ModelSourceInfo Register(string name, string? uri, string? type, bool allowInsecureHttp, bool force, SourceCredential? credential = null)
    {
        if (string.IsNullOrWhiteSpace(name) || !ModelNames.IsValidId(name))
        {
            throw Errors.InvalidModelSource(name, $"the name '{name}' is not valid (letters, digits, '.', '_', '-')");
        }

        if (string.Equals(name, BuiltInCatalogSource.SourceName, StringComparison.OrdinalIgnoreCase))
        {
            throw Errors.InvalidModelSource(name, $"the name '{name}' is reserved for the built-in catalog");
        }

        var (normalizedUri, resolvedType) = Classify(name, uri, type);
        if (credential is not null && !ServiceTypes.Contains(resolvedType, StringComparer.OrdinalIgnoreCase))
        {
            throw Errors.InvalidModelSource(name, $"-Credential applies to sources of type {string.Join(" or ", ServiceTypes)}, not {resolvedType}");
        }

        if (resolvedType != FileType && !IsStoreType(resolvedType))
        {
            // The rule every request of this source is held to, on every redirect hop (see Net.RedirectHandler).
            Net.HttpPolicy.ForSource(name, allowInsecureHttp).Ensure(new Uri(normalizedUri));
        }

        var record = new SourceRecord(name, normalizedUri, resolvedType, allowInsecureHttp, DateTimeOffset.UtcNow) { Credential = credential };
        if (force)
        {
            store.Replace(record);
        }
        else if (!store.Add(record))
        {
            throw Errors.ModelSourceExists(name);
        }

        return ListSources().First(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
    }

    public void Unregister(string name)
    {
        if (string.Equals(name, BuiltInCatalogSource.SourceName, StringComparison.OrdinalIgnoreCase))
        {
            throw Errors.BuiltInCatalogFixed(name, BuiltInCatalogSource.SourceName);
        }

        if (!store.Remove(name))
        {
            throw Errors.ModelSourceNotFound(name);
        }
    }

    /// <summary>Reads every source; each failure becomes a warning naming the source.</summary>
    public Task<CatalogListing> ReadAllAsync(CancellationToken cancellationToken) => ReadAllAsync(null, cancellationToken);

    /// <summary>
    /// Reads every source at once; each failure becomes a warning naming the source. An HTTP source that did not
    /// answer in time earlier in this session is not waited for again: its last good listing stands in (or it is
    /// left out) while it is asked again in the background, and it is warned about once. With
    /// <paramref name="budget"/> (tab completion) no source is waited for longer than that, and nothing is warned.
    /// </summary>
    public async Task<CatalogListing> ReadAllAsync(TimeSpan? budget, CancellationToken cancellationToken)
    {
        var sources = ListSources();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var reads = sources.Select(s => ReadOneAsync(s, budget, cancellationToken)).ToList();
        await Task.WhenAll(reads).ConfigureAwait(false);

        var models = new List<ModelInfo>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var warnings = new List<string>();
        var errors = new List<ModelLibraryException>();
        var diagnostics = new List<string>();
        var complete = true;
        foreach (var (info, result, error, note, waited) in reads.Select(r => r.Result))
        {
            diagnostics.Add($"Source '{info.Name}' ({Net.SafeUrl.MaskText(info.Uri)}): {note} ({waited.TotalMilliseconds:0} ms).");
            if (error is not null)
            {
                errors.Add(error);
                warnings.Add(error.Message);
            }

            if (result is null)
            {
                complete = false;
                continue;
            }

            warnings.AddRange(result.Warnings);
            foreach (var model in result.Models)
            {
                // The first source that lists an id owns it: the built-in catalog, then sources by age.
                if (seen.Add(model.Id))
                {
                    models.Add(model.Clone());
                }
                else
                {
                    warnings.Add($"Source '{info.Name}': the id '{model.Id}' is already listed by an earlier source; its entry is ignored.");
                }
            }
        }

        diagnostics.Add($"{models.Count} catalog models from {sources.Count} sources in {started.ElapsedMilliseconds} ms.");
        return new CatalogListing(models, budget is null ? warnings : Array.Empty<string>(), errors) { Complete = complete && errors.Count == 0, Diagnostics = diagnostics };
    }

    async Task<(ModelSourceInfo Info, CatalogReadResult? Result, ModelLibraryException? Error, string Note, TimeSpan Waited)> ReadOneAsync(
        ModelSourceInfo info, TimeSpan? budget, CancellationToken cancellationToken)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (info.Type != HttpType)
        {
            try
            {
                var result = await Open(info).ReadAsync(cancellationToken).ConfigureAwait(false);
                return (info, result, null, $"{result.Models.Count} models", clock.Elapsed);
            }
            catch (ModelLibraryException e)
            {
                return (info, null, e, "unavailable", clock.Elapsed);
            }
        }

        var state = reads.GetOrAdd(info.Name, _ => new SourceReadState());
        Task<CatalogReadResult> read;
        bool slow;
        lock (state)
        {
            if (state.Uri != info.FetchUri)
            {
                // Re-registered elsewhere: what was known of the old URI says nothing about the new one.
                state.Reset(info.FetchUri);
            }

            if (state.InFlight is { IsCompletedSuccessfully: true } done)
            {
                // A read that finished in the background since the last listing: the source answers again.
                state.LastGood = (done.Result, DateTimeOffset.Now);
                state.Slow = false;
            }

            if (state.InFlight is null || state.InFlight.IsCompleted)
            {
                // Not tied to the command's token: a read that outlives a short wait (completion, a slow source) goes
                // on in the background, bounded by the source's own timeout, and fills the cache for the next command.
                state.InFlight = Task.Run(() => Open(info).ReadAsync(CancellationToken.None));
            }

            read = state.InFlight;
            slow = state.Slow;
        }

        var wait = budget ?? (slow ? TimeSpan.Zero : Timeout.InfiniteTimeSpan);
        if (!read.IsCompleted && wait != TimeSpan.Zero)
        {
            await Task.WhenAny(read, Task.Delay(wait, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        lock (state)
        {
            if (read.IsCompletedSuccessfully)
            {
                state.Slow = false;
                state.LastGood = (read.Result, DateTimeOffset.Now);
                return (info, read.Result, null, $"{read.Result.Models.Count} models", clock.Elapsed);
            }

            if (read.IsCompleted)
            {
                var error = read.Exception?.InnerException as ModelLibraryException
                    ?? Errors.ModelSourceUnavailable(info.Name, Net.SafeUrl.MaskText(info.Uri), $"{read.Exception?.InnerException?.Message}");
                var timedOut = error.InnerException is OperationCanceledException;
                state.Slow |= timedOut;
                // Said once per session for a source that does not answer; other failures are said each time.
                var say = !timedOut || !state.Warned;
                state.Warned |= timedOut;
                return (info, state.LastGood?.Result, say && budget is null ? error : null,
                    state.LastGood is { } last ? $"failed; its listing of {last.At:HH:mm:ss} stands in" : "unavailable", clock.Elapsed);
            }

            // Still asking: not waited for (completion's budget, or known to be slow).
            if (budget is null && !state.Warned)
            {
                state.Warned = true;
                var note = Errors.ModelSourceUnavailable(info.Name, Net.SafeUrl.MaskText(info.Uri),
                    $"it is slow to answer; {(state.LastGood is { } last ? $"its listing of {last.At:HH:mm:ss} is used" : "its models are left out")} until it does");
                return (info, state.LastGood?.Result, note, "not answering yet", clock.Elapsed);
            }

            return (info, state.LastGood?.Result, null,
                state.LastGood is { } previous ? $"not answering yet; its listing of {previous.At:HH:mm:ss} stands in" : "not answering yet; left out", clock.Elapsed);
        }
    }

    /// <summary>What this session knows of one HTTP source's reads: the one under way, the last good one, whether it is slow.</summary>
    sealed class SourceReadState
    {
        public string? Uri;
        public Task<CatalogReadResult>? InFlight;
        public (CatalogReadResult Result, DateTimeOffset At)? LastGood;
        /// <summary>Its last read timed out: commands do not wait for it until a read succeeds.</summary>
        public bool Slow;
        /// <summary>The user was told it does not answer (once per session).</summary>
        public bool Warned;

        public void Reset(string uri)
        {
            Uri = uri;
            InFlight = null;
            LastGood = null;
            Slow = false;
            Warned = false;
        }
    }

    /// <summary>
    /// The source behind a registration. Types this build does not serve yet (registered by a newer module) list
    /// nothing rather than fail every listing.
    /// </summary>
    public IModelSource Open(ModelSourceInfo info) => info switch
    {
        { IsBuiltIn: true } => new BuiltInCatalogSource(),
        { Type: FileType or HttpType } => new RegisteredCatalogSource(info, http),
        _ => others?.Open(info) ?? new EmptySource(info.Name),
    };

    /// <summary>A source that lists nothing by itself (a hub, a registry): references reach it through <see cref="Sources.ModelResolver"/>.</summary>
    sealed class EmptySource(string name) : IModelSource
    {
        public string Name => name;

        public Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new CatalogReadResult(Array.Empty<ModelInfo>(), Array.Empty<string>()));
    }

    internal static string FilePath(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.IsFile ? parsed.LocalPath : uri;

    (string Uri, string Type) Classify(string name, string? uri, string? type)
    {
        if (IsStoreType(type))
        {
            return ClassifyStore(name, uri, StoreTypes.First(t => string.Equals(t, type, StringComparison.OrdinalIgnoreCase)));
        }

        if (string.IsNullOrWhiteSpace(uri))
        {
            throw Errors.InvalidModelSource(name, "no URI was given");
        }

        if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            if (string.Equals(type, OciType, StringComparison.OrdinalIgnoreCase))
            {
                if (parsed.AbsolutePath.Trim('/').Length > 0 || parsed.Query.Length > 0)
                {
                    throw Errors.InvalidModelSource(name, $"an Oci source's -Uri is https://<registry> (or http://127.0.0.1:<port>) without a path, not '{uri}'");
                }

                return (parsed.GetLeftPart(UriPartial.Authority), OciType);
            }

            if (type is not null && ServiceTypes.FirstOrDefault(t => string.Equals(t, type, StringComparison.OrdinalIgnoreCase)) is { } service)
            {
                return (parsed.GetLeftPart(UriPartial.Path).TrimEnd('/'), service);
            }

            if (type is not null && !string.Equals(type, HttpType, StringComparison.OrdinalIgnoreCase))
            {
                throw Errors.InvalidModelSource(name, $"the URI '{uri}' is an HTTP(S) URI but -Type is '{type}'");
            }

            return (parsed.AbsoluteUri, HttpType);
        }

        if (type is not null && ServiceTypes.Any(t => string.Equals(t, type, StringComparison.OrdinalIgnoreCase)))
        {
            throw Errors.InvalidModelSource(name, $"a {type} source needs an http(s) -Uri (its endpoint), not '{uri}'");
        }

        if (parsed is not null && !parsed.IsFile)
        {
            throw Errors.InvalidModelSource(name, $"the URI scheme '{parsed.Scheme}' is not supported (use http, https, file, or a path)");
        }

        if (type is not null && !string.Equals(type, FileType, StringComparison.OrdinalIgnoreCase))
        {
            throw Errors.InvalidModelSource(name, $"'{uri}' is a file but -Type is '{type}'");
        }

        var path = Path.GetFullPath(FilePath(uri));
        if (!File.Exists(path))
        {
            throw Errors.InvalidModelSource(name, $"the catalog file '{path}' does not exist");
        }

        return (path, FileType);
    }

    /// <summary>A store's folder: -Uri (a path or file:// URI), else the tool's own default folder; it must exist.</summary>
    (string Uri, string Type) ClassifyStore(string name, string? uri, string type)
    {
        string folder;
        if (string.IsNullOrWhiteSpace(uri))
        {
            folder = type switch
            {
                _ when others?.DefaultFolder(type) is { } own => own,
                _ => throw Errors.InvalidModelSource(name, "a Directory source needs -Uri, the folder to read"),
            };
        }
        else if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && !parsed.IsFile)
        {
            throw Errors.InvalidModelSource(name, $"a {type} source's -Uri is a folder on this machine, not '{uri}'");
        }
        else
        {
            folder = FilePath(uri);
        }

        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder))
        {
            throw Errors.InvalidModelSource(name, $"the {type} folder '{folder}' does not exist"
                + (string.IsNullOrWhiteSpace(uri) ? $" (it is where the tool keeps models by default; give the folder with -Uri)" : ""));
        }

        return (folder, type);
    }

}

/// <summary>Every source's models, first lister wins, with the warnings and the sources that failed.</summary>
public sealed record CatalogListing(IReadOnlyList<ModelInfo> Models, IReadOnlyList<string> Warnings, IReadOnlyList<ModelLibraryException> Errors)
{
    /// <summary>False when a source was left out or stood in for by an earlier listing (not worth caching as it is).</summary>
    public bool Complete { get; init; } = true;

    /// <summary>What was read from where, and how long it took, for -Verbose (URLs masked).</summary>
    public IReadOnlyList<string> Diagnostics { get; init; } = Array.Empty<string>();
}
