namespace ModelLibrary;

/// <summary>
/// Health levels. For a provider: Healthy = its runtime answered and it has a compatible local model, so it can serve
/// now; Degraded = the runtime answered but no compatible model is local yet (download one); Unhealthy = the
/// runtime is not installed or not answering. Overall: Healthy when at least one provider is Healthy; Degraded when
/// none is, but some runtime answered or some compatible model is local; Unhealthy otherwise.
/// </summary>
public enum IntegrationHealth
{
    Healthy,
    Degraded,
    Unhealthy,
}

/// <summary>The seed's integration status response: every provider's readiness and the totals.</summary>
public sealed class IntegrationStatus
{
    public ProviderIntegrationStatus[] Providers { get; init; } = Array.Empty<ProviderIntegrationStatus>();
    public IntegrationHealth OverallStatus { get; init; }
    public int TotalProviders { get; init; }
    /// <summary>Providers whose runtime answered its health check.</summary>
    public int HealthyProviders { get; init; }
    /// <summary>Providers with at least one compatible local model.</summary>
    public int ProvidersWithModels { get; init; }
    /// <summary>Distinct models compatible with at least one provider.</summary>
    public int TotalCompatibleModels { get; init; }
    public DateTimeOffset CheckedAt { get; init; }
    /// <summary>What this machine has, as scoring uses it: RAM, cores, measured memory bandwidth and the GPUs found.</summary>
    public MachineDescription Machine { get; init; } = new();
}

/// <summary>One provider's readiness: runtime health, and which compatible models are here or downloadable.</summary>
public sealed class ProviderIntegrationStatus
{
    public string Name { get; init; } = "";
    /// <summary>The runtime answered its health check.</summary>
    public bool Healthy { get; init; }
    public bool HasCompatibleModels { get; init; }
    public bool HasLocalModels { get; init; }
    public int LocalModelsCount { get; init; }
    /// <summary>Compatible models not yet downloaded.</summary>
    public int AvailableForDownload { get; init; }
    public int TotalCompatible { get; init; }
    public IntegrationHealth Status { get; init; }
    /// <summary>Ids of the compatible local models (the seed's <c>local_models</c>).</summary>
    public string[] LocalModels { get; init; } = Array.Empty<string>();

    // How health was checked.
    public ProbeMethod ProbeMethod { get; init; }
    public string? Endpoint { get; init; }
    public string Message { get; init; } = "";
    public TimeSpan Latency { get; init; }
    public ProviderHealth Health { get; init; } = new();

    public override string ToString() => $"{Name}: {Status}";
}
