namespace ModelLibrary.Formats;

/// <summary>One tensor entry of a safetensors header.</summary>
public sealed class SafetensorsTensorInfo
{
    internal SafetensorsTensorInfo(string name, string dtype, long[] shape, long dataBegin, long dataEnd, long elementCount)
    {
        Name = name;
        DType = dtype;
        Shape = shape;
        DataBegin = dataBegin;
        DataEnd = dataEnd;
        ElementCount = elementCount;
    }

    public string Name { get; }
    /// <summary>The dtype as the header spells it, e.g. F32, BF16, I64.</summary>
    public string DType { get; }
    public IReadOnlyList<long> Shape { get; }
    /// <summary>data_offsets[0], relative to the start of the data section.</summary>
    public long DataBegin { get; }
    /// <summary>data_offsets[1], relative to the start of the data section.</summary>
    public long DataEnd { get; }
    public long ElementCount { get; }
    public long ByteSize => DataEnd - DataBegin;

    public override string ToString() => $"{Name} {DType} [{string.Join(", ", Shape)}]";
}

/// <summary>What one safetensors file's header says.</summary>
public sealed class SafetensorsFile
{
    internal SafetensorsFile(string source, long fileSize, long headerLength, IReadOnlyDictionary<string, string>? metadata,
        IReadOnlyList<SafetensorsTensorInfo> tensors, long parameterCount, long dataEnd)
    {
        Source = source;
        FileSize = fileSize;
        HeaderLength = headerLength;
        Metadata = metadata;
        Tensors = tensors;
        ParameterCount = parameterCount;
        DataEnd = dataEnd;
    }

    public string Source { get; }
    public long FileSize { get; }
    /// <summary>The u64 at the start of the file: the JSON header's length in bytes.</summary>
    public long HeaderLength { get; }
    /// <summary>Where the data section starts: 8 + <see cref="HeaderLength"/>.</summary>
    public long DataOffset => 8 + HeaderLength;
    /// <summary>The <c>__metadata__</c> block, or null when the header has none.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; }
    /// <summary>Tensors in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }
    public long ParameterCount { get; }
    /// <summary>Absolute byte where the furthest tensor's data ends.</summary>
    public long DataEnd { get; }
    /// <summary>The dtype holding most of the parameters, or null without tensors.</summary>
    public string? DominantDType => SafetensorsModel.Dominant(Tensors);
}

/// <summary>
/// A safetensors model: one file, or the shards a <c>model.safetensors.index.json</c> lists, which together are one model.
/// </summary>
public sealed class SafetensorsModel
{
    internal SafetensorsModel(string? indexPath, IReadOnlyList<SafetensorsFile> shards, long? declaredTotalSize, int weightMapCount)
    {
        IndexPath = indexPath;
        Shards = shards;
        DeclaredTotalSize = declaredTotalSize;
        WeightMapCount = weightMapCount;
    }

    /// <summary>The index file, or null for a single unsharded file.</summary>
    public string? IndexPath { get; }
    public bool IsSharded => IndexPath is not null;
    public IReadOnlyList<SafetensorsFile> Shards { get; }
    /// <summary>The index's <c>metadata.total_size</c> (bytes of tensor data), when present.</summary>
    public long? DeclaredTotalSize { get; }
    /// <summary>Number of entries in the index's weight_map (0 for a single file).</summary>
    public int WeightMapCount { get; }
    public int TensorCount => Shards.Sum(s => s.Tensors.Count);
    public long ParameterCount => Shards.Sum(s => s.ParameterCount);
    /// <summary>Sum of the shard files' sizes.</summary>
    public long TotalFileSize => Shards.Sum(s => s.FileSize);
    public string? DominantDType => Dominant(Shards.SelectMany(s => s.Tensors));
    /// <summary>The first shard's <c>__metadata__</c>.</summary>
    public IReadOnlyDictionary<string, string>? Metadata => Shards.Count > 0 ? Shards[0].Metadata : null;

    internal static string? Dominant(IEnumerable<SafetensorsTensorInfo> tensors) => tensors
        .GroupBy(t => t.DType, StringComparer.Ordinal)
        .OrderByDescending(g => g.Sum(t => (decimal)t.ElementCount))
        .Select(g => g.Key)
        .FirstOrDefault();
}
