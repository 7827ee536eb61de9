namespace ModelLibrary;

/// <summary>Where a memory estimate came from, most trusted first.</summary>
public enum MemoryEstimateMethod
{
    /// <summary>The catalog's stated memory requirement (e.g. "~1GB").</summary>
    Metadata,
    /// <summary>Parameters × bits per weight, plus context cache and runtime overhead.</summary>
    Parameters,
    /// <summary>The file size × 1.2.</summary>
    FileSize,
    /// <summary>Nothing to go on.</summary>
    Unknown,
}

/// <summary>How much memory a model needs on a provider, and how that was worked out.</summary>
public sealed class MemoryEstimate
{
    /// <summary>Bytes in all; null when <see cref="Method"/> is <see cref="MemoryEstimateMethod.Unknown"/>.</summary>
    public long? Total { get; init; }
    public MemoryEstimateMethod Method { get; init; }
    public long? Weights { get; init; }
    /// <summary>The attention key/value cache for <see cref="ContextTokens"/> tokens.</summary>
    public long? ContextCache { get; init; }
    public long? RuntimeOverhead { get; init; }
    public long? ParameterCount { get; init; }
    public string? Quantization { get; init; }
    public double? BitsPerWeight { get; init; }
    public long? ContextTokens { get; init; }
    /// <summary>The working in plain words.</summary>
    public string Explanation { get; init; } = "";

    public override string ToString() => Explanation;
}
