using ModelLibrary.Catalog;

namespace ModelLibrary.Sources.Stores;

/// <summary>
/// Another tool's model store, read where it lies: every model it holds is listed Local with its file in that store,
/// nothing copied, nothing written. A store that changes while it is read (a pull in progress, a half-written
/// manifest, a dangling link) costs a warning for that model, never the listing. Subclasses know one tool's layout.
/// </summary>
public abstract class ExternalStoreSource : IModelSource
{
    protected ExternalStoreSource(string name, string root)
    {
        Name = name;
        Root = Path.GetFullPath(root);
    }

    public string Name { get; }

    /// <summary>The store's folder as registered.</summary>
    public string Root { get; }

    /// <summary>The tool that owns the files, as messages name it (<c>Ollama</c>, <c>the Hugging Face cache</c>).</summary>
    public abstract string Tool { get; }

    public Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Root))
        {
            throw Unavailable($"its folder '{Root}' does not exist (was {Tool} moved or uninstalled?)");
        }

        var models = new List<ModelInfo>();
        var warnings = new List<string>();
        try
        {
            foreach (var model in Scan(warnings, cancellationToken))
            {
                model.Source = Name;
                model.Status = ModelStatus.Local;
                model.ExternalStore = Tool;
                models.Add(model);
            }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw Unavailable($"its folder '{Root}' cannot be read ({e.Message})", e);
        }

        return Task.FromResult(new CatalogReadResult(models, warnings));
    }

    /// <summary>The models of the store; a model that cannot be read is left out with a warning (<see cref="Skip"/>).</summary>
    protected abstract IEnumerable<ModelInfo> Scan(List<string> warnings, CancellationToken cancellationToken);

    /// <summary>A warning that names the source and what was left out.</summary>
    protected string Skip(string what, string why) => $"Source '{Name}' ({Tool}): {what} is skipped: {why}.";

    /// <summary>
    /// The real path of <paramref name="path"/> when it exists and, links followed, stays inside <paramref name="within"/>;
    /// otherwise null with the reason (a dangling link, a link leading out of the store).
    /// </summary>
    protected static string? Resolve(string path, string within, out string? why)
    {
        why = null;
        FileSystemInfo info = new FileInfo(path);
        if (!info.Exists && info.LinkTarget is null)
        {
            why = "it does not exist (a pull in progress, or a blob removed)";
            return null;
        }

        string resolved;
        try
        {
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            resolved = target?.FullName ?? info.FullName;
        }
        catch (IOException e)
        {
            why = $"its link cannot be followed ({e.Message})";
            return null;
        }

        if (!File.Exists(resolved))
        {
            why = info.LinkTarget is not null ? $"its link points to '{info.LinkTarget}', which does not exist (a download in progress or a removed blob)" : "the file does not exist";
            return null;
        }

        if (!Files.PathContainment.IsInside(resolved, within))
        {
            why = $"it leads to '{resolved}', outside the store '{within}'";
            return null;
        }

        return resolved;
    }

    protected ModelLibraryException Unavailable(string why, Exception? inner = null) => Errors.StoreUnavailable(Name, Tool, Root, why, inner);
}
