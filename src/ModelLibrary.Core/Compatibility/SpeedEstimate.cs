namespace ModelLibrary;

/// <summary>Where the model would run on the machine scored against.</summary>
public enum ModelPlacement
{
    /// <summary>Nothing known about where it runs.</summary>
    Unknown,
    /// <summary>All layers on the GPU(s): LM Studio's "full GPU offload possible".</summary>
    Gpu,
    /// <summary>Some layers on the GPU, the rest in RAM on the CPU.</summary>
    Partial,
    /// <summary>In RAM on the CPU.</summary>
    Cpu,
}

/// <summary>How fast a model is expected to generate tokens, and why.</summary>
public sealed class SpeedEstimate
{
    /// <summary>Tokens per second while generating; null when the memory bandwidth or the bytes per token are unknown.</summary>
    public double? TokensPerSecond { get; init; }
    /// <summary>True when the number was measured (Measure-LibraryModel on this machine), not estimated.</summary>
    public bool Measured { get; init; }
    public ModelPlacement Placement { get; init; }
    /// <summary>Weights (the used experts only, for MoE) plus half the context cache, read for each token.</summary>
    public long? BytesPerToken { get; init; }
    /// <summary>Bytes per second the estimate divided by (the GPU's, or the measured RAM bandwidth).</summary>
    public double? Bandwidth { get; init; }
    public string Explanation { get; init; } = "";

    public override string ToString() => Explanation;
}

/// <summary>What the model is expected to be good for, from its size and its quantization.</summary>
public sealed class QualityEstimate
{
    /// <summary>0..1: <see cref="SizeScore"/> × <see cref="QuantizationScore"/>.</summary>
    public double Score { get; init; }
    /// <summary>0..1 on a log scale from 100M (0) to 70B parameters (1); 0.5 when unknown.</summary>
    public double SizeScore { get; init; }
    /// <summary>0..1: how much of the unquantized model's quality survives the quantization (8 bits and up: 1).</summary>
    public double QuantizationScore { get; init; }
    public string Explanation { get; init; } = "";

    public override string ToString() => Explanation;
}
