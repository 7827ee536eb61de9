namespace ModelLibrary.Formats;

public enum ModelFileFormat
{
    Unknown,
    Gguf,
    Safetensors,
    /// <summary>Pickle-based: torch zip archives (TorchScript ones too), torch's legacy formats (raw pickles, the first tar), and plain pickles.</summary>
    PyTorch,
}

/// <summary>What <see cref="ModelFileInspector.Inspect"/> learned from a model file's header.</summary>
public sealed class ModelFileInfo
{
    public required string Path { get; init; }
    public required ModelFileFormat Format { get; init; }
    /// <summary><c>gguf</c>, <c>safetensors</c>, <c>pytorch</c> or <c>unknown</c>.</summary>
    public string FormatName => Format switch
    {
        ModelFileFormat.Gguf => "gguf",
        ModelFileFormat.Safetensors => "safetensors",
        ModelFileFormat.PyTorch => "pytorch",
        _ => "unknown",
    };
    public long FileSize { get; init; }
    /// <summary>E.g. <c>GGUF v3</c>, <c>safetensors</c>, <c>PyTorch zip, pickle protocol 2</c>.</summary>
    public string? FormatVersion { get; init; }

    public string? Architecture { get; init; }
    public string? Name { get; init; }
    /// <summary>The raw <c>general.file_type</c> of a GGUF file.</summary>
    public uint? FileType { get; init; }
    /// <summary>
    /// GGUF: the file type's quantization name (or the dominant tensor type); safetensors: the dominant dtype; PyTorch:
    /// the dtype of the storages holding most elements, spelled as safetensors spells it (F32, F16, BF16).
    /// </summary>
    public string? Quantization { get; init; }
    public long? ContextLength { get; init; }
    public long? EmbeddingLength { get; init; }
    public long? BlockCount { get; init; }
    public long? HeadCount { get; init; }
    public long? HeadCountKv { get; init; }
    public long? ExpertCount { get; init; }
    public long? ExpertUsedCount { get; init; }
    public long? KeyLength { get; init; }
    public long? ValueLength { get; init; }
    /// <summary>Bytes of tensor data across all parts or shards (what the weights take in memory).</summary>
    public long? WeightBytes { get; init; }
    /// <summary>Of <see cref="WeightBytes"/>, the MoE expert tensors' bytes.</summary>
    public long? ExpertWeightBytes { get; init; }
    /// <summary>config.json's <c>torch_dtype</c> for safetensors models (the KV cache's element type); null for GGUF.</summary>
    public string? CacheType { get; init; }
    public string? TokenizerModel { get; init; }
    public bool? HasChatTemplate { get; init; }
    public uint? Alignment { get; init; }
    public bool IsBigEndian { get; init; }

    /// <summary>Tensors across all parts or shards.</summary>
    public long? TensorCount { get; init; }
    /// <summary>Sum of the tensors' element counts across all parts or shards; for PyTorch, null when the pickles could not be followed.</summary>
    public long? ParameterCount { get; init; }
    /// <summary>GGUF: where the first part's tensor data starts.</summary>
    public long? DataOffset { get; init; }
    /// <summary>GGUF: the size the first part must have to hold its tensors (null without tensors).</summary>
    public long? ExpectedMinimumFileSize { get; init; }

    /// <summary>Files that make up the model: the split parts or shards, else the file itself.</summary>
    public IReadOnlyList<string> Parts { get; init; } = Array.Empty<string>();
    public int PartCount => Parts.Count;
    /// <summary>Total bytes of all parts.</summary>
    public long TotalSize { get; init; }
    /// <summary>safetensors <c>__metadata__</c> (of the first shard).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The GGUF headers, one per part, in part order.</summary>
    public IReadOnlyList<GgufFile> GgufParts { get; init; } = Array.Empty<GgufFile>();
    public GgufFile? Gguf => GgufParts.Count > 0 ? GgufParts[0] : null;
    public SafetensorsModel? Safetensors { get; init; }
    public PickleScanResult? Pickle { get; init; }
    /// <summary>False only for a pickle that imports a global off the allowlist.</summary>
    public bool IsSafe => Pickle?.IsSafe ?? true;
}
