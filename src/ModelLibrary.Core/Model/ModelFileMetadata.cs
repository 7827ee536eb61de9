using System.Text.Json.Serialization;

namespace ModelLibrary;

/// <summary>Where the values of a <see cref="ModelFileMetadata"/> come from.</summary>
public enum MetadataSource
{
    /// <summary>Read from the file's header only (<c>Get-ModelMetadata -Path</c>).</summary>
    File,
    /// <summary>The catalog's values only: the model has no file in this library.</summary>
    Catalog,
    /// <summary>The catalog's values, overridden by the file's where the file has one.</summary>
    Merged,
}

/// <summary>A value the catalog and the model's file disagree on. The file's value is the one shown.</summary>
public sealed class MetadataDifference
{
    public MetadataDifference(string field, string? catalogValue, string? fileValue)
    {
        Field = field;
        CatalogValue = catalogValue;
        FileValue = fileValue;
    }

    public string Field { get; }
    public string? CatalogValue { get; }
    public string? FileValue { get; }

    public override string ToString() => $"{Field}: catalog '{CatalogValue}', file '{FileValue}'";
}

/// <summary>
/// What a model file's header says, for <c>Get-ModelMetadata</c>; cached as JSON under <c>metadata/</c>. The header's
/// values live once, in <see cref="Metadata"/>; the properties named after them read it, so the two cannot disagree.
/// </summary>
public sealed class ModelFileMetadata
{
    /// <summary>The library model, when asked for by id.</summary>
    [JsonIgnore]
    public string? ModelId { get; set; }
    /// <summary>The file read (first split part, or the shard index); null for catalog-only metadata.</summary>
    public string? Path { get; set; }
    /// <summary><c>gguf</c>, <c>safetensors</c>, <c>pytorch</c>.</summary>
    public string? Format { get; set; }
    /// <summary>The model's own name (GGUF <c>general.name</c>).</summary>
    public string? Name { get; set; }

    // The header's values, read from Metadata (where they are kept once).
    /// <summary>E.g. <c>GGUF v3</c>, <c>PyTorch zip, pickle protocol 2</c>.</summary>
    [JsonIgnore] public string? FormatVersion => Metadata.FileFormatVersion;
    [JsonIgnore] public string? Architecture => Metadata.Architecture;
    [JsonIgnore] public string? Quantization => Metadata.Quantization;
    /// <summary>Parameter count as catalogs write it (<c>1.1B</c>).</summary>
    [JsonIgnore] public string? Parameters => Metadata.Parameters;
    [JsonIgnore] public long? ParameterCount => Metadata.ParameterCount;
    [JsonIgnore] public long? ContextLength => Metadata.ContextLength;
    [JsonIgnore] public long? EmbeddingLength => Metadata.EmbeddingLength;
    [JsonIgnore] public long? BlockCount => Metadata.BlockCount;
    [JsonIgnore] public long? HeadCount => Metadata.HeadCount;
    [JsonIgnore] public long? HeadCountKv => Metadata.HeadCountKv;
    [JsonIgnore] public long? ExpertCount => Metadata.ExpertCount;
    [JsonIgnore] public string? TokenizerModel => Metadata.TokenizerModel;
    [JsonIgnore] public bool? HasChatTemplate => Metadata.HasChatTemplate;
    [JsonIgnore] public long? TensorCount => Metadata.TensorCount;

    /// <summary>Bytes of the file read.</summary>
    public long? FileSize { get; set; }
    /// <summary>Bytes of every part or shard together.</summary>
    public long? TotalSize { get; set; }
    public string[] Parts { get; set; } = Array.Empty<string>();
    public int PartCount => Parts.Length;
    /// <summary>False for a pickle that imports globals off the allowlist, or holds TorchScript code (read, never loaded).</summary>
    public bool IsSafe { get; set; } = true;
    public string[] UnsafeGlobals { get; set; } = Array.Empty<string>();
    /// <summary>True for a TorchScript archive (torch.jit.save): its code would be compiled and run when loaded.</summary>
    public bool ContainsTorchScript { get; set; }
    /// <summary>safetensors <c>__metadata__</c> of the first shard.</summary>
    public Dictionary<string, string>? HeaderMetadata { get; set; }
    public DateTime? LastWriteTimeUtc { get; set; }

    /// <summary>The seed's metadata structure: the file's values; for a library model the catalog's, with the file's over them.</summary>
    public ModelMetadata Metadata { get; set; } = new();

    [JsonIgnore]
    public MetadataSource MetadataSource { get; set; } = MetadataSource.File;
    /// <summary>Values the catalog and the file disagree on (the file's are shown).</summary>
    [JsonIgnore]
    public MetadataDifference[] Differences { get; set; } = Array.Empty<MetadataDifference>();
    /// <summary>True when the header was not read again but taken from the metadata cache.</summary>
    [JsonIgnore]
    public bool FromCache { get; set; }

    public override string ToString() => ModelId ?? Path ?? "";

    public ModelFileMetadata Clone()
    {
        var copy = (ModelFileMetadata)MemberwiseClone();
        copy.Parts = (string[])Parts.Clone();
        copy.UnsafeGlobals = (string[])UnsafeGlobals.Clone();
        copy.Metadata = Metadata.Clone();
        copy.Differences = (MetadataDifference[])Differences.Clone();
        copy.HeaderMetadata = HeaderMetadata is null ? null : new Dictionary<string, string>(HeaderMetadata);
        return copy;
    }
}
