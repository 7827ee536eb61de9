using System.Globalization;

namespace ModelLibrary.Compatibility;

/// <summary>This machine's resources, as scoring sees them. Tests pass fixed numbers.</summary>
public interface IMachineResources
{
    /// <summary>Physical memory usable by this process, in bytes (a container limit counts).</summary>
    long TotalMemory { get; }
    /// <summary>Memory that can be used now without swapping, in bytes.</summary>
    long AvailableMemory { get; }
    int ProcessorCount { get; }
    /// <summary>Free bytes on the volume that holds <paramref name="path"/> (or its nearest existing parent); null when unknown.</summary>
    long? GetAvailableDiskSpace(string path);
    /// <summary>GPUs with their memory; none when there are none or none could be probed.</summary>
    IReadOnlyList<GpuDevice> Gpus => Array.Empty<GpuDevice>();
    /// <summary>RAM bandwidth in bytes per second (measured); null when unknown.</summary>
    double? MemoryBandwidth => null;
    /// <summary>Names this machine for measurements stored with a model (so another machine's are not used); null: none apply.</summary>
    string? Fingerprint => null;
}

/// <summary>Fixed numbers, for tests and for sizing a machine other than this one.</summary>
public sealed class FixedMachineResources : IMachineResources
{
    public FixedMachineResources(long totalMemory, long availableMemory, int processorCount, long? availableDiskSpace)
    {
        TotalMemory = totalMemory;
        AvailableMemory = availableMemory;
        ProcessorCount = processorCount;
        AvailableDiskSpace = availableDiskSpace;
    }

    public long TotalMemory { get; }
    public long AvailableMemory { get; }
    public int ProcessorCount { get; }
    public long? AvailableDiskSpace { get; }
    public long? GetAvailableDiskSpace(string path) => AvailableDiskSpace;
    public IReadOnlyList<GpuDevice> Gpus { get; init; } = Array.Empty<GpuDevice>();
    public double? MemoryBandwidth { get; init; }
    public string? Fingerprint { get; init; }
}

/// <summary>Reads the operating system: /proc/meminfo on Linux, the GC's view elsewhere, DriveInfo for disks.</summary>
public sealed class SystemMachineResources : IMachineResources
{
    public static SystemMachineResources Instance { get; } = new();

    // Probed on first use only: scoring needs them, importing the module does not.
    readonly Lazy<IReadOnlyList<GpuDevice>> gpus = new(GpuProbe.Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Probed once per process (nvidia-smi, rocm-smi or sysfs, Apple unified memory), each with a short timeout.</summary>
    public IReadOnlyList<GpuDevice> Gpus => gpus.Value;

    /// <summary>Measured once per process by a short memory copy test (<see cref="MemoryBandwidthTest"/>).</summary>
    public double? MemoryBandwidth => MemoryBandwidthTest.Measured;

    /// <summary>Host name, cores and RAM: a measurement taken here applies while these stay the same.</summary>
    public string Fingerprint => $"{Environment.MachineName}/{Environment.ProcessorCount} cores/{Math.Round(TotalMemory / (1024.0 * 1024 * 1024))} GiB";

    public long TotalMemory
    {
        get
        {
            // The GC's figure honours cgroup limits, so inside a container it is the limit rather than the host's RAM.
            var gcLimit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            var memTotal = ReadMemInfo("MemTotal");
            return memTotal is { } total && total > 0 ? Math.Min(total, gcLimit > 0 ? gcLimit : total) : gcLimit;
        }
    }

    public long AvailableMemory
    {
        get
        {
            // MemAvailable is the kernel's own estimate of what can be allocated without swapping (page cache counts).
            if (ReadMemInfo("MemAvailable") is { } available)
            {
                return Math.Min(available, TotalMemory);
            }

            var info = GC.GetGCMemoryInfo();
            var free = info.TotalAvailableMemoryBytes - info.MemoryLoadBytes;
            return free > 0 ? free : info.TotalAvailableMemoryBytes;
        }
    }

    public int ProcessorCount => Environment.ProcessorCount;

    public long? GetAvailableDiskSpace(string path)
    {
        try
        {
            var existing = NearestExistingDirectory(Path.GetFullPath(path));
            return existing is null ? null : new DriveInfo(existing).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    static string? NearestExistingDirectory(string path)
    {
        // The provider folder may not exist yet; its volume is the one of the closest parent that does.
        for (var current = path; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            if (Directory.Exists(current))
            {
                return current;
            }
        }

        return null;
    }

    /// <summary>A /proc/meminfo field in bytes ("MemTotal:  16318412 kB"); null off Linux or when unreadable.</summary>
    static long? ReadMemInfo(string field)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal))
                {
                    continue;
                }

                var parts = line[(field.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
                {
                    return kb * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
