namespace ModelLibrary;

/// <summary>A model the library knows: from a catalog, from the registry, or found on disk.</summary>
public sealed class ModelInfo
{
    string? downloadUrl;

    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string Provider { get; set; } = "";
    /// <summary>Size in bytes as the catalog declares it; null when unknown.</summary>
    public long? Size { get; set; }
    public string? Description { get; set; }
    public string[] Capabilities { get; set; } = Array.Empty<string>();
    public ModelStatus Status { get; set; } = ModelStatus.Available;
    /// <summary>0..1 while downloading, else null.</summary>
    public double? DownloadProgress { get; set; }
    public ModelMetadata Metadata { get; set; } = new();
    public string? LocalPath { get; set; }

    /// <summary>
    /// Where the file is downloaded from, as it may be shown or stored: credentials in it (<c>user:password@</c>)
    /// read as <c>***@</c>. The download itself uses them (<see cref="FetchUrl"/>).
    /// </summary>
    public string? DownloadUrl
    {
        get => Net.SafeUrl.MaskText(downloadUrl);
        set => downloadUrl = value;
    }

    /// <summary>The download URL as the catalog gave it, credentials included; never shown or stored.</summary>
    internal string? FetchUrl => downloadUrl;
    /// <summary><c>sha256:&lt;hex&gt;</c>, or null when no source knows it.</summary>
    public string? Checksum { get; set; }
    /// <summary>Bytes the model takes on disk when local.</summary>
    public long? DiskUsage { get; set; }
    public DateTimeOffset? LastUsed { get; set; }
    public DateTimeOffset? DownloadDate { get; set; }
    /// <summary>The model source it came from (<c>builtin</c>, a registered source's name, or <c>local</c>).</summary>
    public string? Source { get; set; }
    /// <summary><c>gguf</c>, <c>safetensors</c>, <c>pytorch</c>, ...</summary>
    public string? Format { get; set; }
    /// <summary>
    /// The commit (Hugging Face Hub) or manifest digest (<c>sha256:&lt;hex&gt;</c>, OCI) the model's files came from;
    /// null for catalog models.
    /// </summary>
    public string? Revision { get; set; }
    /// <summary>File name inside the model's folder.</summary>
    public string? FileName { get; set; }
    /// <summary>
    /// The tool whose store holds the model's files (<c>Ollama</c>, <c>Hugging Face cache</c>, <c>LM Studio</c>, a folder),
    /// read in place; null when the library owns them. The library never writes, moves or deletes such files.
    /// </summary>
    public string? ExternalStore { get; set; }
    /// <summary>Why the model is in <see cref="ModelStatus.Error"/>, when it is.</summary>
    public string? StatusMessage { get; set; }
    /// <summary>Other URLs serving the same file (the catalog entry's optional <c>mirrors</c>); a download uses them all at once.</summary>
    public string[]? Mirrors { get; set; }
    /// <summary>Catalog fields the library does not interpret; kept, not rejected.</summary>
    public IDictionary<string, object?> AdditionalProperties { get; set; } = new Dictionary<string, object?>();

    public override string ToString() => Id;

    public ModelInfo Clone()
    {
        var copy = (ModelInfo)MemberwiseClone();
        copy.Capabilities = (string[])Capabilities.Clone();
        copy.Metadata = Metadata.Clone();
        copy.AdditionalProperties = new Dictionary<string, object?>(AdditionalProperties);
        return copy;
    }
}
