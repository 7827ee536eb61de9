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
        MemoryRequirement ??= other.MemoryRequirement;
        License ??= other.License;
        Tags = Tags.Length > 0 ? Tags : other.Tags;
        TrainingData ??= other.TrainingData;
        foreach (var metric in other.PerformanceMetrics.Where(m => !PerformanceMetrics.ContainsKey(m.Key)))
        {
            PerformanceMetrics[metric.Key] = metric.Value;
        }

        CopyHeaderValues(other, this, overwrite: false);
    }

    /// <summary>
    /// Takes every value <paramref name="file"/> read from a model file's header over this one's (the file is what will
    /// be loaded); values the header lacks (a safetensors file has no context length) stay.
    /// </summary>
    public void OverlayHeaderValues(ModelMetadata file) => CopyHeaderValues(file, this, overwrite: true);

    /// <summary>The one list of the values a model file's header gives (see <c>ModelFileInspector.ToMetadata</c>).</summary>
    static void CopyHeaderValues(ModelMetadata from, ModelMetadata to, bool overwrite)
    {
        T? R<T>(T? mine, T? theirs) where T : class => overwrite ? theirs ?? mine : mine ?? theirs;
        T? V<T>(T? mine, T? theirs) where T : struct => overwrite ? theirs ?? mine : mine ?? theirs;
        to.Parameters = R(to.Parameters, from.Parameters);
        to.ParameterCount = V(to.ParameterCount, from.ParameterCount);
        to.Architecture = R(to.Architecture, from.Architecture);
        to.Quantization = R(to.Quantization, from.Quantization);
        to.ContextLength = V(to.ContextLength, from.ContextLength);
        to.EmbeddingLength = V(to.EmbeddingLength, from.EmbeddingLength);
        to.BlockCount = V(to.BlockCount, from.BlockCount);
        to.HeadCount = V(to.HeadCount, from.HeadCount);
        to.HeadCountKv = V(to.HeadCountKv, from.HeadCountKv);
        to.ExpertCount = V(to.ExpertCount, from.ExpertCount);
        to.ExpertUsedCount = V(to.ExpertUsedCount, from.ExpertUsedCount);
        to.KeyLength = V(to.KeyLength, from.KeyLength);
        to.ValueLength = V(to.ValueLength, from.ValueLength);
        to.WeightBytes = V(to.WeightBytes, from.WeightBytes);
        to.ExpertWeightBytes = V(to.ExpertWeightBytes, from.ExpertWeightBytes);
        to.CacheType = R(to.CacheType, from.CacheType);
        to.TokenizerModel = R(to.TokenizerModel, from.TokenizerModel);
        to.HasChatTemplate = V(to.HasChatTemplate, from.HasChatTemplate);
        to.TensorCount = V(to.TensorCount, from.TensorCount);
        to.FileFormatVersion = R(to.FileFormatVersion, from.FileFormatVersion);
    }

    public ModelMetadata Clone()
    {
        var copy = (ModelMetadata)MemberwiseClone();
        copy.Tags = (string[])Tags.Clone();
        copy.PerformanceMetrics = new Dictionary<string, object?>(PerformanceMetrics);
        return copy;
    }
}
