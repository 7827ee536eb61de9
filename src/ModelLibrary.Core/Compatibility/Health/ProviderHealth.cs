namespace ModelLibrary;

/// <summary>The result of checking one provider's runtime, and how it was checked.</summary>
public sealed class ProviderHealth
{
    public string Provider { get; init; } = "";
    public bool Healthy { get; init; }
    public ProbeMethod ProbeMethod { get; init; }
    /// <summary>The URL requested or the executable/interpreter found (or looked for).</summary>
    public string? Endpoint { get; init; }
    public string Message { get; init; } = "";
    /// <summary>How long the check took.</summary>
    public TimeSpan Latency { get; init; }
    public DateTimeOffset CheckedAt { get; init; }
    /// <summary>Models the running server reports (Ollama tags, OpenAI model ids); empty when not applicable.</summary>
    public string[] ServedModels { get; init; } = Array.Empty<string>();

    public override string ToString() => $"{Provider}: {(Healthy ? "healthy" : "unhealthy")} ({Message})";
}
