namespace ModelLibrary;

/// <summary>Where a memory estimate's weights came from, most trusted first.</summary>
public enum MemoryEstimateMethod
{
    /// <summary>The tensor data the file's header lists (a local file that was read).</summary>
    TensorData,
    /// <summary>The file's size: a GGUF or safetensors file is its weights plus a small header.</summary>
    FileSize,
    /// <summary>The catalog's stated memory requirement (e.g. "~1GB") for the whole need, when the file is not known.</summary>
    Metadata,
    /// <summary>Parameters × bits per weight of the quantization.</summary>
    Parameters,
    /// <summary>Nothing to go on.</summary>
    Unknown,
}

/// <summary>How much memory a model needs on a provider, and how that was worked out.</summary>
public sealed class MemoryEstimate
{
    /// <summary>Bytes in all: weights + context cache + runtime; null when <see cref="Method"/> is <see cref="MemoryEstimateMethod.Unknown"/>.</summary>
    public long? Total { get; init; }
    public MemoryEstimateMethod Method { get; init; }
    /// <summary>Bytes of weights held in memory (all experts of a MoE model).</summary>
    public long? Weights { get; init; }
    /// <summary>Bytes of weights read for each generated token: all of them, or for a MoE model the shared ones and the used experts.</summary>
    public long? ActiveWeights { get; init; }
    /// <summary>The attention key/value cache for <see cref="ContextTokens"/> tokens.</summary>
    public long? ContextCache { get; init; }
    /// <summary>Bytes of key/value cache per token of context.</summary>
    public long? ContextCachePerToken { get; init; }
    /// <summary>The cache's element type (F16 unless the model says otherwise).</summary>
    public string? CacheType { get; init; }
    public long? RuntimeOverhead { get; init; }
    public long? ParameterCount { get; init; }
    /// <summary>Parameters used per token (MoE: shared + used experts); equals <see cref="ParameterCount"/> for a dense model.</summary>
    public long? ActiveParameterCount { get; init; }
    public string? Quantization { get; init; }
    public double? BitsPerWeight { get; init; }
    public long? ContextTokens { get; init; }
    /// <summary>True when the cache was sized from the model's layers and heads (header or config.json), not from a rule of thumb.</summary>
    public bool CacheFromShape { get; init; }
    /// <summary>The working in plain words.</summary>
    public string Explanation { get; init; } = "";

    public override string ToString() => Explanation;
}
