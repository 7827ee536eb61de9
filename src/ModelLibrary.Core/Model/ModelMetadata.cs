namespace ModelLibrary;

/// <summary>The seed's metadata structure, plus what a local file's header says.</summary>
public sealed class ModelMetadata
{
    /// <summary>Parameter count label as catalogs write it, e.g. <c>1.1B</c>.</summary>
    public string? Parameters { get; set; }
    public string? Quantization { get; set; }
    /// <summary>Human-readable memory need as the catalog states it (e.g. <c>~1GB</c>).</summary>
    public string? MemoryRequirement { get; set; }
    public long? ContextLength { get; set; }
    public string? License { get; set; }
    public string[] Tags { get; set; } = Array.Empty<string>();
    public string? Architecture { get; set; }
    public string? TrainingData { get; set; }
    public IDictionary<string, object?> PerformanceMetrics { get; set; } = new Dictionary<string, object?>();

    // Values read from the file's header, when the model is local and was read.
    /// <summary>Exact parameter count computed from tensor shapes.</summary>
    public long? ParameterCount { get; set; }
    public long? EmbeddingLength { get; set; }
    public long? BlockCount { get; set; }
    public long? HeadCount { get; set; }
    public long? HeadCountKv { get; set; }
    public long? ExpertCount { get; set; }
    /// <summary>Experts each token runs through (MoE); with <see cref="ExpertCount"/> it gives the active parameters.</summary>
    public long? ExpertUsedCount { get; set; }
    /// <summary>Width of one attention key head (GGUF <c>attention.key_length</c>, config.json <c>head_dim</c>); else embedding / heads.</summary>
    public long? KeyLength { get; set; }
    public long? ValueLength { get; set; }
    /// <summary>Bytes of tensor data in the file(s): what the weights take in memory.</summary>
    public long? WeightBytes { get; set; }
    /// <summary>Of <see cref="WeightBytes"/>, the bytes of MoE expert tensors (only the used share is read per token).</summary>
    public long? ExpertWeightBytes { get; set; }
    /// <summary>Element type of the key/value cache when the model says (config.json <c>torch_dtype</c>); llama.cpp's default is F16.</summary>
    public string? CacheType { get; set; }
    public string? TokenizerModel { get; set; }
    public bool? HasChatTemplate { get; set; }
    public long? TensorCount { get; set; }
    public string? FileFormatVersion { get; set; }

    /// <summary>Takes each value this metadata lacks from <paramref name="other"/>; values it has stay.</summary>
    public void FillGapsFrom(ModelMetadata other)
    {
        Parameters ??= other.Parameters;
        Quantization ??= other.Quantization;
        MemoryRequirement ??= other.MemoryRequirement;
        ContextLength ??= other.ContextLength;
        License ??= other.License;
        Tags = Tags.Length > 0 ? Tags : other.Tags;
        Architecture ??= other.Architecture;
        TrainingData ??= other.TrainingData;
        foreach (var metric in other.PerformanceMetrics.Where(m => !PerformanceMetrics.ContainsKey(m.Key)))
        {
            PerformanceMetrics[metric.Key] = metric.Value;
        }

        ParameterCount ??= other.ParameterCount;
        EmbeddingLength ??= other.EmbeddingLength;
        BlockCount ??= other.BlockCount;
        HeadCount ??= other.HeadCount;
        HeadCountKv ??= other.HeadCountKv;
        ExpertCount ??= other.ExpertCount;
        ExpertUsedCount ??= other.ExpertUsedCount;
        KeyLength ??= other.KeyLength;
        ValueLength ??= other.ValueLength;
        WeightBytes ??= other.WeightBytes;
        ExpertWeightBytes ??= other.ExpertWeightBytes;
        CacheType ??= other.CacheType;
        TokenizerModel ??= other.TokenizerModel;
        HasChatTemplate ??= other.HasChatTemplate;
        TensorCount ??= other.TensorCount;
        FileFormatVersion ??= other.FileFormatVersion;
    }

    public ModelMetadata Clone()
    {
        var copy = (ModelMetadata)MemberwiseClone();
        copy.Tags = (string[])Tags.Clone();
        copy.PerformanceMetrics = new Dictionary<string, object?>(PerformanceMetrics);
        return copy;
    }
}
