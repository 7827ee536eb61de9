namespace ModelLibrary;

/// <summary>Whether a model can run on a provider on this machine, how well, why, and what to do about it.</summary>
public sealed class ModelCompatibility
{
    public string ModelId { get; init; } = "";
    public string Provider { get; init; } = "";
    /// <summary>False when any blocking factor failed (format, required capability, size limits, memory).</summary>
    public bool Compatible { get; init; }
    /// <summary>0..1: the weighted sum of <see cref="Factors"/> (scaled below every bucket when not compatible). Ranks how well the model suits the provider here.</summary>
    public double CompatibilityScore { get; init; }
    /// <summary>One sentence per factor, in plain words.</summary>
    public string[] Reasons { get; init; } = Array.Empty<string>();
    public CompatibilityRequirements Requirements { get; init; } = new();
    /// <summary>What to do: a smaller quantization that fits, a provider that loads the format, freeing disk...</summary>
    public string[] Recommendations { get; init; } = Array.Empty<string>();
    /// <summary>The score's parts: each factor's weight, score and reason.</summary>
    public CompatibilityFactor[] Factors { get; init; } = Array.Empty<CompatibilityFactor>();

    public override string ToString() => $"{ModelId} on {Provider}: {(Compatible ? "compatible" : "not compatible")} ({CompatibilityScore:0.00})";
}

/// <summary>One part of a compatibility score.</summary>
public sealed class CompatibilityFactor
{
    /// <summary>Format, RequiredCapabilities, OptionalCapabilities, SizeLimits, Disk, Memory, Speed, Quality or Usefulness.</summary>
    public string Name { get; init; } = "";
    /// <summary>Share of the total score (the weights add up to 1).</summary>
    public double Weight { get; init; }
    /// <summary>0..1 for this factor alone.</summary>
    public double Score { get; init; }
    /// <summary>True when this factor failed in a way that makes the model unusable on the provider.</summary>
    public bool Blocking { get; init; }
    public string Reason { get; init; } = "";
    public double Contribution => Weight * Score;

    public override string ToString() => $"{Name}: {Score:0.00} × {Weight:0.00}{(Blocking ? " (blocking)" : "")}";
}

/// <summary>What the model needs, and what this machine (or the sized one) has.</summary>
public sealed class CompatibilityRequirements
{
    // What the model needs.
    public string? Format { get; init; }
    /// <summary>The model's capabilities.</summary>
    public string[] Capabilities { get; init; } = Array.Empty<string>();
    /// <summary>The provider's required capabilities (entries with '|' are alternatives).</summary>
    public string[] RequiredCapabilities { get; init; } = Array.Empty<string>();
    /// <summary>Required entries the model does not meet.</summary>
    public string[] MissingCapabilities { get; init; } = Array.Empty<string>();
    /// <summary>Estimated memory need in bytes; null when unknown.</summary>
    public long? MemoryBytes { get; init; }
    public MemoryEstimate MemoryEstimate { get; init; } = new();
    /// <summary>Tokens of context the cache was sized for.</summary>
    public long? ContextLength { get; init; }
    /// <summary>Expected tokens per second while generating (measured when Measure-LibraryModel ran here); null when unknown.</summary>
    public double? TokensPerSecond { get; init; }
    public SpeedEstimate Speed { get; init; } = new();
    /// <summary>Where it would run: on the GPU, partly offloaded, or on the CPU.</summary>
    public ModelPlacement Placement { get; init; }
    public QualityEstimate Quality { get; init; } = new();
    /// <summary>Bytes the need exceeds RAM plus GPU memory by; null when it fits.</summary>
    public long? MemoryShortfallBytes { get; init; }
    /// <summary>Bytes the download takes on disk; 0 when the model is already local; null when unknown.</summary>
    public long? DiskBytes { get; init; }
    public int RecommendedCpuCores { get; init; }

    // What the machine has.
    public long TotalMemoryBytes { get; init; }
    public long AvailableMemoryBytes { get; init; }
    /// <summary>GPU memory that adds to RAM (0 without a discrete GPU).</summary>
    public long GpuMemoryBytes { get; init; }
    /// <summary>True when a MaxMemory given by the caller stands in for this machine's RAM.</summary>
    public bool MemoryOverridden { get; init; }
    public long? FreeDiskBytes { get; init; }
    /// <summary>The provider folder whose volume <see cref="FreeDiskBytes"/> was measured on.</summary>
    public string? DiskPath { get; init; }
    public int CpuCores { get; init; }
}
