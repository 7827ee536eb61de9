namespace ModelLibrary;

/// <summary>One GPU as the machine probe found it.</summary>
public sealed class GpuDevice
{
    public string Name { get; init; } = "";
    /// <summary>nvidia, amd or apple.</summary>
    public string Vendor { get; init; } = "";
    /// <summary>Memory the GPU has in all, in bytes.</summary>
    public long MemoryTotal { get; init; }
    /// <summary>Memory free now, in bytes; null when the probe does not say.</summary>
    public long? MemoryFree { get; init; }
    /// <summary>Memory bandwidth in bytes per second when known (stated by the caller); null otherwise.</summary>
    public double? MemoryBandwidth { get; init; }
    /// <summary>True for Apple silicon: the GPU shares the machine's RAM, so its memory is not extra capacity.</summary>
    public bool UnifiedMemory { get; init; }
    /// <summary>Where it was found: nvidia-smi, rocm-smi, sysfs, sysctl, or given.</summary>
    public string Source { get; init; } = "";

    public override string ToString() => $"{Name} ({ByteSize.Format(MemoryTotal)}{(UnifiedMemory ? ", unified" : "")})";
}

/// <summary>What the machine has, as scoring sees it (shown by Get-ProviderIntegrationStatus).</summary>
public sealed class MachineDescription
{
    public long TotalMemory { get; init; }
    public long AvailableMemory { get; init; }
    public int ProcessorCount { get; init; }
    /// <summary>RAM bandwidth in bytes per second, from a short memory copy test (measured once per session); null when not measured.</summary>
    public double? MemoryBandwidth { get; init; }
    public GpuDevice[] Gpus { get; init; } = Array.Empty<GpuDevice>();

    public override string ToString() =>
        $"{ByteSize.Format(AvailableMemory)} of {ByteSize.Format(TotalMemory)} RAM free, {ProcessorCount} cores"
        + (MemoryBandwidth is { } b ? $", {ByteSize.Format((long)b)}/s" : "")
        + (Gpus.Length == 0 ? ", no GPU" : ", " + string.Join(", ", Gpus.Select(g => g.ToString())));
}
