using ModelLibrary.Registry;
using ModelLibrary.Sources.Oci;

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
    /// <summary>An OCI registry: <c>-Uri https://&lt;registry&gt;</c> (plain http to loopback only).</summary>
    public const string OciType = "Oci";

    readonly SourceStore store;
    readonly HttpClient http;

    public ModelCatalog(SourceStore store, HttpClient http, SourceCredentials? credentials = null)
    {
        this.store = store;
        this.http = http;
        Credentials = credentials ?? new SourceCredentials(Path.Combine(Path.GetTempPath(), "ModelLibrary-no-credentials"));
        Registries = new OciRegistries(ListSources, Credentials);
    }

    /// <summary>Credentials sources were registered with.</summary>
    public SourceCredentials Credentials { get; }

    /// <summary>The OCI registries, registered or named by reference.</summary>
    public OciRegistries Registries { get; }

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
        })).ToList();

    /// <summary>
    /// Checks and stores a new source. The catalog is not fetched here: a source that is down today may be up
    /// tomorrow, and registering should not depend on the network.
    /// </summary>
    public ModelSourceInfo Register(string name, string uri, string? type, bool allowInsecureHttp, bool force, SourceCredentials.Entry? credential = null)
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
        if (credential is not null && resolvedType != OciType)
        {
            throw Invalid(name, $"-Credential is taken by Oci sources, not by {resolvedType} sources");
        }

        if (resolvedType is HttpType or OciType)
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

        var record = new SourceRecord(name, normalizedUri, resolvedType, allowInsecureHttp, DateTimeOffset.UtcNow);
        if (force)
        {
            store.Replace(record);
            Credentials.Set(name, credential);
        }
        else if (!store.Add(record))
        {
            throw new ModelLibraryException(ErrorIds.ModelSourceExists, ErrorKind.ResourceExists,
                $"A model source named '{name}' is already registered.",
                new Dictionary<string, object?> { ["source"] = name },
                new[] { "Choose another name, or replace it with -Force.", "Run Get-ModelSource to list the sources." }, name);
        }
        else
        {
            Credentials.Set(name, credential);
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

        Credentials.Set(name, null);
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

    public IModelSource Open(ModelSourceInfo info) => info.IsBuiltIn ? new BuiltInCatalogSource()
        : info.Type == OciType ? new OciCatalogSource(info, Registries)
        : new RegisteredCatalogSource(info, http);

    internal static string FilePath(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.IsFile ? parsed.LocalPath : uri;

    static (string Uri, string Type) Classify(string name, string uri, string? type)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw Invalid(name, "no URI was given");
        }

        if (string.Equals(type, OciType, StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(uri, UriKind.Absolute, out var registry) || (registry.Scheme != Uri.UriSchemeHttp && registry.Scheme != Uri.UriSchemeHttps)
                || registry.AbsolutePath.Trim('/').Length > 0 || registry.Query.Length > 0)
            {
                throw Invalid(name, $"an Oci source's -Uri is https://<registry> (or http://127.0.0.1:<port>), not '{uri}'");
            }

            return (registry.GetLeftPart(UriPartial.Authority) + "/", OciType);
        }

        if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            if (type is not null && !string.Equals(type, HttpType, StringComparison.OrdinalIgnoreCase))
            {
                throw Invalid(name, $"the URI '{uri}' is an HTTP(S) URI but -Type is '{type}'");
            }

            return (parsed.AbsoluteUri, HttpType);
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
