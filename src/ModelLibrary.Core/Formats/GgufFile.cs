namespace ModelLibrary.Formats;

/// <summary>One tensor-info record of a GGUF header. The tensor data itself is never read.</summary>
public sealed class GgufTensorInfo
{
    internal GgufTensorInfo(string name, long[] dimensions, uint type, ulong offset, long elementCount, long? byteSize)
    {
        Name = name;
        Dimensions = dimensions;
        Type = type;
        Offset = offset;
        ElementCount = elementCount;
        ByteSize = byteSize;
    }

    public string Name { get; }
    /// <summary>ne[0..n_dims), innermost first, as GGUF stores them.</summary>
    public IReadOnlyList<long> Dimensions { get; }
    /// <summary>The ggml_type number; see <see cref="GgmlType"/>.</summary>
    public uint Type { get; }
    public string TypeName => GgmlType.GetName(Type);
    /// <summary>Offset of the data from the start of the tensor data section.</summary>
    public ulong Offset { get; }
    public long ElementCount { get; }
    /// <summary>Bytes of tensor data (every tensor has a known ggml type; an unknown one makes the file invalid).</summary>
    public long? ByteSize { get; }

    public override string ToString() => $"{Name} [{string.Join(", ", Dimensions)}] {TypeName}";
}

/// <summary>What a GGUF file's header says: metadata key/values and tensor infos.</summary>
public sealed class GgufFile
{
    internal GgufFile(string source, long fileSize, uint version, bool isBigEndian,
        IReadOnlyDictionary<string, GgufValue> metadata, IReadOnlyList<GgufTensorInfo> tensors,
        long headerEnd, uint alignment, long dataOffset, long? tensorDataEnd, long parameterCount)
    {
        Source = source;
        FileSize = fileSize;
        Version = version;
        IsBigEndian = isBigEndian;
        Metadata = metadata;
        Tensors = tensors;
        HeaderEnd = headerEnd;
        Alignment = alignment;
        DataOffset = dataOffset;
        TensorDataEnd = tensorDataEnd;
        ParameterCount = parameterCount;
    }

    public string Source { get; }
    public long FileSize { get; }
    public uint Version { get; }
    /// <summary>True when the file was written big-endian (gguf-py's --bigendian); such files are read, not refused.</summary>
    public bool IsBigEndian { get; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public int TensorCount => Tensors.Count;
    public int KeyValueCount => Metadata.Count;
    /// <summary>The byte where the tensor infos end.</summary>
    public long HeaderEnd { get; }
    /// <summary><c>general.alignment</c>, or the spec's default of 32.</summary>
    public uint Alignment { get; }
    /// <summary>Where the tensor data section starts: <see cref="HeaderEnd"/> rounded up to <see cref="Alignment"/>.</summary>
    public long DataOffset { get; }
    /// <summary>
    /// The smallest file size that holds every tensor (data offset + the last tensor's offset + size), or null when the
    /// file has no tensors.
    /// </summary>
    public long? TensorDataEnd { get; }
    /// <summary>Sum over tensors of the product of their dimensions.</summary>
    public long ParameterCount { get; }

    public string? Architecture => GetString("general.architecture");
    public string? Name => GetString("general.name");
    public uint? FileType => GetInt64("general.file_type") is long v && v >= 0 && v <= uint.MaxValue ? (uint)v : null;

    /// <summary>
    /// The quantization name from <c>general.file_type</c> (null when that value is not a file type); when the key is
    /// absent, the file type llama.cpp's loader guesses (see <see cref="IsQuantizationGuessed"/>).
    /// </summary>
    public string? Quantization => Metadata.ContainsKey("general.file_type")
        ? FileType is uint ft ? GgufFileType.GetName(ft) : null
        : GuessedQuantization;

    /// <summary>True when <see cref="Quantization"/> is guessed from the tensors because the file has no <c>general.file_type</c>.</summary>
    public bool IsQuantizationGuessed => !Metadata.ContainsKey("general.file_type") && Tensors.Count > 0;

    /// <summary>
    /// llama_model_loader's guess: the ggml type of the most tensors (counted per tensor, not per parameter; on a tie the
    /// type that reached the count first, in tensor-name order), mapped to its file type.
    /// </summary>
    private string? GuessedQuantization
    {
        get
        {
            if (Tensors.Count == 0) return null;
            var counts = new Dictionary<uint, int>();
            int best = 0;
            uint bestType = 0;
            foreach (var tensor in Tensors.OrderBy(t => t.Name, StringComparer.Ordinal))
            {
                int count = counts[tensor.Type] = counts.GetValueOrDefault(tensor.Type) + 1;
                if (count > best)
                {
                    best = count;
                    bestType = tensor.Type;
                }
            }
            return GgufFileType.GuessFromTensorType(bestType);
        }
    }

    public string? DominantTensorType => Tensors.Count == 0
        ? null
        : Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => (decimal)t.ElementCount)).First().First().TypeName;

    public long? ContextLength => GetArchInt64("context_length");
    public long? EmbeddingLength => GetArchInt64("embedding_length");
    public long? BlockCount => GetArchInt64("block_count");
    public long? HeadCount => GetArchInt64("attention.head_count");
    public long? HeadCountKv => GetArchInt64("attention.head_count_kv");
    public long? ExpertCount => GetArchInt64("expert_count");
    public long? ExpertUsedCount => GetArchInt64("expert_used_count");
    public long? KeyLength => GetArchInt64("attention.key_length");
    public long? ValueLength => GetArchInt64("attention.value_length");

    /// <summary>Bytes of all tensors' data; null when a tensor's type size is unknown.</summary>
    public long? TensorDataBytes => Tensors.All(t => t.ByteSize is not null) ? Tensors.Sum(t => t.ByteSize!.Value) : null;

    /// <summary>
    /// Bytes of MoE expert tensors: llama.cpp stacks each layer's experts into one tensor named <c>*_exps</c>
    /// (ffn_gate_exps, ffn_up_exps, ffn_down_exps); only the used experts' share of them is read per token.
    /// </summary>
    public long? ExpertTensorDataBytes => Tensors.Where(t => t.Name.Contains("_exps", StringComparison.Ordinal)).All(t => t.ByteSize is not null)
        ? Tensors.Where(t => t.Name.Contains("_exps", StringComparison.Ordinal)).Sum(t => t.ByteSize!.Value)
        : null;
    public string? TokenizerModel => GetString("tokenizer.ggml.model");
    public bool HasChatTemplate => Metadata.ContainsKey("tokenizer.chat_template");
    /// <summary>Length of <c>tokenizer.ggml.tokens</c>, counted without reading the strings.</summary>
    public long? TokenCount => Metadata.TryGetValue("tokenizer.ggml.tokens", out var v) && v.IsArray ? (long)v.ArrayLength : null;

    /// <summary><c>split.no</c> (0-based) of a part written by gguf-split, else null.</summary>
    public long? SplitIndex => GetInt64("split.no");
    public long? SplitCount => GetInt64("split.count");

    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) ? v.AsString() : null;

    /// <summary>
    /// An integer value; for an array of integers (some architectures store per-layer head counts) the largest of
    /// its items when all of them were read.
    /// </summary>
    public long? GetInt64(string key)
    {
        if (!Metadata.TryGetValue(key, out var v)) return null;
        if (!v.IsArray) return v.AsInt64();
        if (!v.IsFullyRead || v.Items.Count == 0) return null;
        long? max = null;
        foreach (var item in v.Items)
        {
            if (item.AsInt64() is not long i) return null;
            max = max is null ? i : Math.Max(max.Value, i);
        }
        return max;
    }

    private long? GetArchInt64(string suffix) => Architecture is string arch ? GetInt64($"{arch}.{suffix}") : null;
}
