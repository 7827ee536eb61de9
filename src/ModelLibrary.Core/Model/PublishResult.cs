using ModelLibrary.Sources.Oci;

namespace ModelLibrary;

/// <summary>What Publish-LibraryModel pushed.</summary>
public sealed class PublishResult
{
    public string ModelId { get; init; } = "";
    /// <summary>The destination with the tag made explicit.</summary>
    public string Reference { get; init; } = "";
    /// <summary>The manifest's digest: <c>&lt;registry&gt;/&lt;repository&gt;@&lt;Digest&gt;</c> pulls exactly this.</summary>
    public string Digest { get; init; } = "";
    public OciModelFormat Format { get; init; }
    /// <summary>Bytes of all blobs (config and layers).</summary>
    public long Size { get; init; }
    public int BlobsUploaded { get; init; }
    public int BlobsSkipped { get; init; }

    public override string ToString() => $"{Reference}@{Digest}";
}
