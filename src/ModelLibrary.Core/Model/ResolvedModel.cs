namespace ModelLibrary;

/// <summary>
/// One file a model is made of, as its source states it: where to fetch it, where it goes inside the model's
/// folder, and what it must hash to. Sources fill it; the download engine fetches and verifies it.
/// </summary>
public sealed record RemoteModelFile
{
    /// <summary>Path inside the model's folder, forward slashes; checked by <see cref="ModelReference.CheckRelativePath"/>.</summary>
    public required string RelativePath { get; init; }
    public required Uri Url { get; init; }
    public long? Size { get; init; }
    /// <summary><c>sha256:&lt;hex&gt;</c> when the source states it (Hub LFS oid, OCI digest, a catalog checksum).</summary>
    public string? Checksum { get; init; }
    /// <summary>The git blob SHA-1 (hex) of a small file kept in git rather than LFS; verified when no SHA-256 is known.</summary>
    public string? GitBlobSha1 { get; init; }
    /// <summary>
    /// An archive to unpack at the model folder's root instead of a file to place (<c>tar</c>, <c>tar+gzip</c>; see
    /// <see cref="Files.ArchiveUnpacker"/>); <see cref="RelativePath"/> then only names the archive in messages.
    /// </summary>
    public string? Unpack { get; init; }
}

/// <summary>
/// A reference resolved: the model as the library will list it, and every file to fetch. A model of one file has
/// one entry whose <see cref="RemoteModelFile.RelativePath"/> is <see cref="ModelInfo.FileName"/>.
/// </summary>
public sealed record ResolvedModel(ModelInfo Model, IReadOnlyList<RemoteModelFile> Files)
{
    /// <summary>The source allows plain http to hosts that are not loopback (registered with -AllowInsecureHttp).</summary>
    public bool AllowInsecureHttp { get; init; }

    /// <summary>True when the model is a folder of several files (a transformers repository, a split GGUF set, a model with its mmproj).</summary>
    public bool IsFolder => Files.Count > 1 || Files.Any(f => f.Unpack is not null);

    /// <summary>The files of a catalog-style model: its one download URL.</summary>
    public static ResolvedModel SingleFile(ModelInfo model, bool allowInsecureHttp)
    {
        var files = new List<RemoteModelFile>();
        if (!string.IsNullOrWhiteSpace(model.FetchUrl) && Uri.TryCreate(model.FetchUrl, UriKind.Absolute, out var url))
        {
            files.Add(new RemoteModelFile
            {
                RelativePath = string.IsNullOrWhiteSpace(model.FileName) ? ModelFileNames.FromUrl(url.AbsoluteUri) : model.FileName,
                Url = url,
                Size = model.Size,
                Checksum = Sha256Checksum.Normalize(model.Checksum),
            });
        }

        return new ResolvedModel(model, files) { AllowInsecureHttp = allowInsecureHttp };
    }
}
