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

    /// <summary>Source types whose -Uri is a service (a hub, a registry) rather than a catalog.</summary>
    static readonly string[] ServiceTypes = { HuggingFaceType, OciType };

    readonly SourceStore store;
    readonly HttpClient http;

    public ModelCatalog(SourceStore store, HttpClient http)
    {
        this.store = store;
        this.http = http;
        Registries = new Sources.Oci.OciRegistries(this);
    }

    /// <summary>OCI registries, registered or named by reference; one per catalog, so registry tokens are reused.</summary>
    public Sources.Oci.OciRegistries Registries { get; }

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
    public ModelSourceInfo Register(string name, string uri, string? type, bool allowInsecureHttp, bool force, SourceCredential? credential = null)
    {
        if (string.IsNullOrWhiteSpace(name) || !CatalogJson.IsValidId(name))
        {
            throw Invalid(name, $"the name '{name}' is not valid (letters, digits, '.', '_', '-')");
        }

        if (string.Equals(name, BuiltInCatalogSource.SourceName, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(name, $"the name '{name}' is reserved for the built-in catalog");
        }

        var (normalizedUri, resolvedType) = Classify(name, uri, type);
        if (credential is not null && !ServiceTypes.Contains(resolvedType, StringComparer.OrdinalIgnoreCase))
        {
            throw Invalid(name, $"-Credential applies to sources of type {string.Join(" or ", ServiceTypes)}, not {resolvedType}");
        }

        if (resolvedType != FileType)
        {
            var parsed = new Uri(normalizedUri);
            if (parsed.Scheme == Uri.UriSchemeHttp && !allowInsecureHttp && !RegisteredCatalogSource.IsLoopback(parsed))
            {
                throw new SecurityException(ErrorIds.InsecureSource,
                    $"The model source '{name}' uses plain http to '{parsed.Host}', which is not a loopback host.", name,
                    new Dictionary<string, object?> { ["source"] = name, ["uri"] = normalizedUri },
                    new[] { "Use an https:// URI.", "Or, if you trust the network path, register it with -AllowInsecureHttp." });
            }
        }

        var record = new SourceRecord(name, normalizedUri, resolvedType, allowInsecureHttp, DateTimeOffset.UtcNow) { Credential = credential };
        if (force)
        {
            store.Replace(record);
        }
        else if (!store.Add(record))
        {
            throw new ModelLibraryException(ErrorIds.ModelSourceExists, ErrorKind.ResourceExists,
                $"A model source named '{name}' is already registered.",
                new Dictionary<string, object?> { ["source"] = name },
                new[] { "Choose another name, or replace it with -Force.", "Run Get-ModelSource to list the sources." }, name);
        }

        return ListSources().First(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
    }

    public void Unregister(string name)
    {
        if (string.Equals(name, BuiltInCatalogSource.SourceName, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(name, "the built-in catalog cannot be unregistered");
        }

        if (!store.Remove(name))
        {
            throw SourceNotFound(name);
        }
    }

    public static ModelLibraryException SourceNotFound(string name) => new(
        ErrorIds.ModelSourceNotFound, ErrorKind.NotFound, $"No model source is named '{name}'.",
        new Dictionary<string, object?> { ["source"] = name },
        new[] { "Run Get-ModelSource to list the sources." }, name);

    /// <summary>Reads every source; each failure becomes a warning naming the source.</summary>
    public async Task<CatalogListing> ReadAllAsync(CancellationToken cancellationToken)
    {
        var sources = ListSources().Select(Open).ToList();
        // Fetch concurrently: one slow HTTP catalog should not make the others wait in line.
        var reads = sources.Select(async s =>
        {
            try
            {
                return (s.Name, Result: await s.ReadAsync(cancellationToken).ConfigureAwait(false), Error: (ModelLibraryException?)null);
            }
            catch (ModelLibraryException e)
            {
                return (s.Name, Result: (CatalogReadResult?)null, Error: e);
            }
        }).ToList();
        await Task.WhenAll(reads).ConfigureAwait(false);

        var models = new List<ModelInfo>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var warnings = new List<string>();
        var errors = new List<ModelLibraryException>();
        foreach (var (name, result, error) in reads.Select(r => r.Result))
        {
            if (error is not null)
            {
                errors.Add(error);
                warnings.Add(error.Message);
                continue;
            }

            warnings.AddRange(result!.Warnings);
            foreach (var model in result.Models)
            {
                // The first source that lists an id owns it: the built-in catalog, then sources by age.
                if (seen.Add(model.Id))
                {
                    models.Add(model.Clone());
                }
                else
                {
                    warnings.Add($"Source '{name}': the id '{model.Id}' is already listed by an earlier source; its entry is ignored.");
                }
            }
        }

        return new CatalogListing(models, warnings, errors);
    }

    /// <summary>
    /// The source behind a registration. Types this build does not serve yet (registered by a newer module) list
    /// nothing rather than fail every listing.
    /// </summary>
    public IModelSource Open(ModelSourceInfo info) => info switch
    {
        { IsBuiltIn: true } => new BuiltInCatalogSource(),
        { Type: FileType or HttpType } => new RegisteredCatalogSource(info, http),
        { Type: OciType } => new Sources.Oci.OciCatalogSource(info, Registries),
        _ => new EmptySource(info.Name),
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

    static (string Uri, string Type) Classify(string name, string uri, string? type)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw Invalid(name, "no URI was given");
        }

        if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            if (string.Equals(type, OciType, StringComparison.OrdinalIgnoreCase))
            {
                if (parsed.AbsolutePath.Trim('/').Length > 0 || parsed.Query.Length > 0)
                {
                    throw Invalid(name, $"an Oci source's -Uri is https://<registry> (or http://127.0.0.1:<port>) without a path, not '{uri}'");
                }

                return (parsed.GetLeftPart(UriPartial.Authority), OciType);
            }

            if (type is not null && ServiceTypes.FirstOrDefault(t => string.Equals(t, type, StringComparison.OrdinalIgnoreCase)) is { } service)
            {
                return (parsed.GetLeftPart(UriPartial.Path).TrimEnd('/'), service);
            }

            if (type is not null && !string.Equals(type, HttpType, StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid(name, $"the URI '{uri}' is an HTTP(S) URI but -Type is '{type}'");
            }

            return (parsed.AbsoluteUri, HttpType);
        }

        if (type is not null && ServiceTypes.Any(t => string.Equals(t, type, StringComparison.OrdinalIgnoreCase)))
        {
            throw Invalid(name, $"a {type} source needs an http(s) -Uri (its endpoint), not '{uri}'");
        }

        if (parsed is not null && !parsed.IsFile)
        {
            throw Invalid(name, $"the URI scheme '{parsed.Scheme}' is not supported (use http, https, file, or a path)");
        }

        if (type is not null && !string.Equals(type, FileType, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(name, $"'{uri}' is a file but -Type is '{type}'");
        }

        var path = Path.GetFullPath(FilePath(uri));
        if (!File.Exists(path))
        {
            throw Invalid(name, $"the catalog file '{path}' does not exist");
        }

        return (path, FileType);
    }

    static ModelLibraryException Invalid(string name, string why) => new(
        ErrorIds.InvalidModelSource, ErrorKind.InvalidArgument, $"Cannot register model source '{name}': {why}.",
        new Dictionary<string, object?> { ["source"] = name },
        new[] { "Give -Uri as an https:// URL or the path of a catalog JSON file." }, name);
}

/// <summary>Every source's models, first lister wins, with the warnings and the sources that failed.</summary>
public sealed record CatalogListing(IReadOnlyList<ModelInfo> Models, IReadOnlyList<string> Warnings, IReadOnlyList<ModelLibraryException> Errors);
