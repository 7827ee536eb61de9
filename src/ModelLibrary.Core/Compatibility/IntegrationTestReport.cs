namespace ModelLibrary;

/// <summary>One step of the integration self-test.</summary>
public sealed class IntegrationTestStep
{
    public string Name { get; init; } = "";
    public bool Success { get; init; }
    public string Message { get; init; } = "";
    public TimeSpan Duration { get; init; }
    /// <summary>The step's result object (model count, ModelCompatibility list, ProviderHealth...), for scripts.</summary>
    public object? Data { get; init; }
    /// <summary>What to do about a failed step; empty when it passed.</summary>
    public string[] ResolutionSteps { get; init; } = Array.Empty<string>();

    public override string ToString() => $"{(Success ? "PASS" : "FAIL")} {Name}: {Message}";
}

/// <summary>The self-test as a whole.</summary>
public sealed class IntegrationTestReport
{
    public IntegrationTestStep[] Steps { get; init; } = Array.Empty<IntegrationTestStep>();
    /// <summary>
    /// True when the library is usable: models were discovered, the directories are writable, the registry answers,
    /// and at least one provider is healthy with a compatible model. A provider that is simply not installed fails its
    /// own step without failing the whole test.
    /// </summary>
    public bool Success { get; init; }
    public int Passed => Steps.Count(s => s.Success);
    public int Failed => Steps.Count(s => !s.Success);
    public TimeSpan Duration { get; init; }
}
