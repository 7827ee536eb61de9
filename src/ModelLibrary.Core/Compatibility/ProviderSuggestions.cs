namespace ModelLibrary;

/// <summary>The models that suit a provider on this machine, in buckets and best first.</summary>
public sealed class ProviderSuggestions
{
    public string Provider { get; init; } = "";
    public ProviderCapabilities ProviderCapabilities { get; init; } = new();
    public SuggestionBuckets Recommendations { get; init; } = new();
    /// <summary>Every compatible model, including those scoring below the Acceptable threshold.</summary>
    public int TotalCompatibleModels { get; init; }
    /// <summary>Each compatible model with its score, best first (ties: local first, then smaller memory need).</summary>
    public ModelSuggestion[] Models { get; init; } = Array.Empty<ModelSuggestion>();
    /// <summary>The memory scored against: the caller's MaxMemory, else this machine's RAM.</summary>
    public long MemoryBytes { get; init; }
    public long? MaxMemory { get; init; }
    public long? MaxSize { get; init; }
    public long? ContextLength { get; init; }
    /// <summary>One suggestion per model family (its quantizations and formats): the variant that suits this machine best.</summary>
    public ModelSuggestion[] BestOfFamily { get; init; } = Array.Empty<ModelSuggestion>();
    /// <summary>The machine scored against: RAM, cores, measured bandwidth, GPUs.</summary>
    public MachineDescription Machine { get; init; } = new();
}

/// <summary>
/// Model ids by rating. Thresholds are <see cref="SuggestionThresholds"/>: Excellent ≥ 0.8, Good ≥ 0.6, Acceptable ≥ 0.4.
/// </summary>
public sealed class SuggestionBuckets
{
    public string[] Excellent { get; init; } = Array.Empty<string>();
    public string[] Good { get; init; } = Array.Empty<string>();
    public string[] Acceptable { get; init; } = Array.Empty<string>();

    public override string ToString() => $"Excellent: {Excellent.Length}, Good: {Good.Length}, Acceptable: {Acceptable.Length}";
}

/// <summary>The rating bucket a compatible model falls in.</summary>
public enum SuggestionRating
{
    Excellent,
    Good,
    Acceptable,
    /// <summary>Compatible but below the Acceptable threshold; listed in Models, not in a bucket.</summary>
    Poor,
}

/// <summary>The score thresholds of the suggestion buckets (the help quotes these).</summary>
public static class SuggestionThresholds
{
    public const double Excellent = 0.8;
    public const double Good = 0.6;
    public const double Acceptable = 0.4;

    public static SuggestionRating Rate(double score) => score switch
    {
        >= Excellent => SuggestionRating.Excellent,
        >= Good => SuggestionRating.Good,
        >= Acceptable => SuggestionRating.Acceptable,
        _ => SuggestionRating.Poor,
    };
}

/// <summary>One suggested model.</summary>
public sealed class ModelSuggestion
{
    public string ModelId { get; init; } = "";
    public string Name { get; init; } = "";
    public SuggestionRating Rating { get; init; }
    public double CompatibilityScore { get; init; }
    /// <summary>True when the model is already downloaded.</summary>
    public bool IsLocal { get; init; }
    public ModelStatus Status { get; init; }
    public string? Format { get; init; }
    public string? Quantization { get; init; }
    public string? Parameters { get; init; }
    public long? Size { get; init; }
    public long? MemoryBytes { get; init; }
    /// <summary>Expected tokens per second (measured when available).</summary>
    public double? TokensPerSecond { get; init; }
    public ModelPlacement Placement { get; init; }
    public ModelCompatibility Compatibility { get; init; } = new();

    public override string ToString() => ModelId;
}
