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

    readonly SourceStore store;
    readonly HttpClient http;

    public ModelCatalog(SourceStore store, HttpClient http)
    {
        this.store = store;
        this.http = http;
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
        })).ToList();

    /// <summary>
    /// Checks and stores a new source. The catalog is not fetched here: a source that is down today may be up
    /// tomorrow, and registering should not depend on the network.
    /// </summary>
    public ModelSourceInfo Register(string name, string uri, string? type, bool allowInsecureHttp, bool force)
    {
        if (string.IsNullOrWhiteSpace(name) || !CatalogJson.IsValidId(name))
        {
            throw Errors.InvalidModelSource(name, $"the name '{name}' is not valid (letters, digits, '.', '_', '-')");
        }

        if (string.Equals(name, BuiltInCatalogSource.SourceName, StringComparison.OrdinalIgnoreCase))
        {
            throw Errors.InvalidModelSource(name, $"the name '{name}' is reserved for the built-in catalog");
        }

        var (normalizedUri, resolvedType) = Classify(name, uri, type);
        if (resolvedType == HttpType)
        {
            var parsed = new Uri(normalizedUri);
            if (parsed.Scheme == Uri.UriSchemeHttp && !allowInsecureHttp && !RegisteredCatalogSource.IsLoopback(parsed))
            {
                throw Errors.InsecureSource(
                    $"The model source '{name}' uses plain http to '{parsed.Host}', which is not a loopback host.", name,
                    new Dictionary<string, object?> { ["source"] = name, ["uri"] = normalizedUri },
                    new[] { "Use an https:// URI.", "Or, if you trust the network path, register it with -AllowInsecureHttp." });
            }
        }

        var record = new SourceRecord(name, normalizedUri, resolvedType, allowInsecureHttp, DateTimeOffset.UtcNow);
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
            throw Errors.InvalidModelSource(name, "the built-in catalog cannot be unregistered");
        }

        if (!store.Remove(name))
        {
            throw Errors.ModelSourceNotFound(name);
        }
    }

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

    public IModelSource Open(ModelSourceInfo info) => info.IsBuiltIn ? new BuiltInCatalogSource() : new RegisteredCatalogSource(info, http);

    internal static string FilePath(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.IsFile ? parsed.LocalPath : uri;

    static (string Uri, string Type) Classify(string name, string uri, string? type)
    {
        if (string.IsNullOrWhiteSpace(uri))
        {
            throw Errors.InvalidModelSource(name, "no URI was given");
        }

        if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            if (type is not null && !string.Equals(type, HttpType, StringComparison.OrdinalIgnoreCase))
            {
                throw Errors.InvalidModelSource(name, $"the URI '{uri}' is an HTTP(S) URI but -Type is '{type}'");
            }

            return (parsed.AbsoluteUri, HttpType);
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

}

/// <summary>Every source's models, first lister wins, with the warnings and the sources that failed.</summary>
public sealed record CatalogListing(IReadOnlyList<ModelInfo> Models, IReadOnlyList<string> Warnings, IReadOnlyList<ModelLibraryException> Errors);
