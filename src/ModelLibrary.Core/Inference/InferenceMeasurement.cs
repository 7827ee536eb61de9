namespace ModelLibrary;

/// <summary>What Measure-LibraryModel measured: a model loaded and run in the embedded llama.cpp on this machine.</summary>
public sealed class InferenceMeasurement
{
    /// <summary>The library model; null for a file measured by -Path.</summary>
    public string? ModelId { get; init; }
    public string Path { get; init; } = "";
    public string Engine { get; init; } = "";
    public TimeSpan LoadTime { get; init; }
    public int PromptTokens { get; init; }
    public int TokensGenerated { get; init; }
    /// <summary>Generated tokens per second (after the prompt was processed).</summary>
    public double TokensPerSecond { get; init; }
    /// <summary>The most memory the run added to this process (resident set), in bytes.</summary>
    public long PeakMemoryBytes { get; init; }
    public int ContextLength { get; init; }
    public string Prompt { get; init; } = "";
    /// <summary>What the model wrote.</summary>
    public string Text { get; init; } = "";
    public DateTimeOffset MeasuredAt { get; init; }
    /// <summary>The machine it was measured on; scores use the measurement only there.</summary>
    public string MachineFingerprint { get; init; } = "";
    /// <summary>True when the measurement was stored with the library model (registry), for later scores.</summary>
    public bool Stored { get; init; }

    public override string ToString() => $"{ModelId ?? Path}: {TokensPerSecond:0.#} tokens/s";
}
