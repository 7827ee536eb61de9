using ModelLibrary.Sources;

namespace ModelLibrary.Catalog;

/// <summary>
/// A place models come from: the built-in catalog, a catalog file, an HTTP(S) catalog, the Hugging Face Hub, an OCI
/// registry. Two operations: list what the source offers (<see cref="ReadAsync"/>; a hub or registry may list
/// nothing), and resolve one id or reference to its model and files (<see cref="ResolveAsync"/>), which never lists
/// the whole source when it need not.
/// </summary>
public interface IModelSource
{
    string Name { get; }

    /// <summary>Reads the source's catalog. Throws <see cref="ModelLibraryException"/> naming the source when it cannot.</summary>
    Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken);

    /// <summary>True when this source answers for references of this kind (catalogs answer for plain ids only).</summary>
    bool Handles(ModelReference reference) => false;

    /// <summary>
    /// The models a reference names, without fetching their bytes: one per quantization for a GGUF repository without
    /// <c>:&lt;quant&gt;</c>, else one. Throws ModelNotFound (or AuthenticationRequired, ...) when there is none.
    /// </summary>
    Task<IReadOnlyList<ModelInfo>> DescribeAsync(ModelReference reference, CancellationToken cancellationToken) =>
        throw Errors.ModelNotFound(reference.Text);

    /// <summary>
    /// One reference to one model and the files to fetch for it; a reference that names several models (a GGUF repository
    /// with many quantizations and no default) is AmbiguousModelReference naming the choices.
    /// </summary>
    Task<ResolvedModel> ResolveAsync(ModelReference reference, CancellationToken cancellationToken) =>
        throw Errors.ModelNotFound(reference.Text);

    /// <summary>
    /// The catalog entry with exactly this id (case-insensitive), or null. Catalogs override this when they can answer
    /// without parsing everything; the default reads the catalog.
    /// </summary>
    async Task<ModelInfo?> FindAsync(string id, CancellationToken cancellationToken) =>
        (await ReadAsync(cancellationToken).ConfigureAwait(false)).Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));
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
    /// <summary><c>BuiltIn</c>, <c>File</c>, <c>Http</c>, <c>HuggingFace</c>, <c>Oci</c>, ...</summary>
    public string Type { get; init; } = "";
    public bool AllowInsecureHttp { get; init; }
    public bool IsBuiltIn { get; init; }
    public DateTimeOffset? Added { get; init; }
    /// <summary>True when a credential was registered with the source (the secret itself is never shown).</summary>
    public bool HasCredential { get; init; }

    public override string ToString() => Name;
}
