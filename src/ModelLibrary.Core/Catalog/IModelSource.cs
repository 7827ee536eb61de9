namespace ModelLibrary.Catalog;

/// <summary>A place models are listed: the built-in catalog, a catalog file, an HTTP(S) catalog.</summary>
public interface IModelSource
{
    string Name { get; }

    /// <summary>Reads the source's catalog. Throws <see cref="ModelLibraryException"/> naming the source when it cannot.</summary>
    Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>The models a source lists, and what was skipped on the way (entries without id, bad checksums...).</summary>
public sealed record CatalogReadResult(IReadOnlyList<ModelInfo> Models, IReadOnlyList<string> Warnings);

/// <summary>A model source as <c>Get-ModelSource</c> shows it.</summary>
public sealed class ModelSourceInfo
{
    readonly string uri = "";

    public string Name { get; init; } = "";

    /// <summary>Where the catalog is, as shown: credentials in a URL read <c>***@</c>; the fetch uses them (<see cref="FetchUri"/>).</summary>
    public string Uri
    {
        get => Net.SafeUrl.MaskText(uri)!;
        init => uri = value;
    }

    /// <summary>The URI as registered, credentials included; never shown.</summary>
    internal string FetchUri => uri;
    /// <summary><c>BuiltIn</c>, <c>File</c> or <c>Http</c>.</summary>
    public string Type { get; init; } = "";
    public bool AllowInsecureHttp { get; init; }
    public bool IsBuiltIn { get; init; }
    public DateTimeOffset? Added { get; init; }

    public override string ToString() => Name;
}
