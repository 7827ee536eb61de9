using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Finds GPUs and their memory, each way optional and bounded by a short timeout: NVIDIA through
/// <c>nvidia-smi --query-gpu</c>, AMD through <c>rocm-smi</c> or, without it, the amdgpu driver's sysfs files, Apple
/// silicon as unified memory. A missing tool or a tool that hangs means "no GPU of that kind", never an error.
/// </summary>
public static class GpuProbe
{
    /// <summary>How long one tool may take before it is given up on.</summary>
    public static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(3);

    public static IReadOnlyList<GpuDevice> Probe()
    {
        var found = new List<GpuDevice>();
        var path = Environment.GetEnvironmentVariable("PATH");
        if (ExecutableLocator.Find("nvidia-smi", path, Environment.GetEnvironmentVariable("PATHEXT")) is { } smi
            && Run(smi, "--query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits") is { } csv)
        {
            found.AddRange(ParseNvidiaSmi(csv));
        }

        if (ExecutableLocator.Find("rocm-smi", path) is { } rocm
            && Run(rocm, "--showproductname --showmeminfo vram --json") is { } json)
        {
            found.AddRange(ParseRocmSmi(json));
        }
        else if (OperatingSystem.IsLinux())
        {
            found.AddRange(ReadAmdSysfs("/sys/class/drm"));
        }

        if (OperatingSystem.IsMacOS() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.Arm64)
        {
            found.Add(new GpuDevice
            {
                Name = "Apple GPU",
                Vendor = "apple",
                // Metal lets the GPU use about three quarters of unified memory by default (recommendedMaxWorkingSetSize).
                MemoryTotal = (long)(SystemMachineResources.Instance.TotalMemory * 0.75),
                UnifiedMemory = true,
                Source = "unified memory",
            });
        }

        return found;
    }

    /// <summary><c>nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits</c>: one line per GPU, MiB.</summary>
    public static IReadOnlyList<GpuDevice> ParseNvidiaSmi(string csv)
    {
        var gpus = new List<GpuDevice>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length >= 2 && long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var totalMiB))
            {
                long? free = fields.Length >= 3 && long.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var f) ? f * 1024 * 1024 : null;
                gpus.Add(new GpuDevice { Name = fields[0], Vendor = "nvidia", MemoryTotal = totalMiB * 1024 * 1024, MemoryFree = free, Source = "nvidia-smi" });
            }
        }

        return gpus;
    }

    /// <summary><c>rocm-smi --showproductname --showmeminfo vram --json</c>: {"card0": {"Card series": ..., "VRAM Total Memory (B)": ..., "VRAM Total Used Memory (B)": ...}}.</summary>
    public static IReadOnlyList<GpuDevice> ParseRocmSmi(string json)
    {
        var gpus = new List<GpuDevice>();
        try
        {
            using var document = JsonDocument.Parse(json);
            foreach (var card in document.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object))
            {
                string? Text(string key) => card.Value.TryGetProperty(key, out var v) ? v.ToString() : null;
                if (!long.TryParse(Text("VRAM Total Memory (B)"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var total))
                {
                    continue;
                }

                long? free = long.TryParse(Text("VRAM Total Used Memory (B)"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var used) ? total - used : null;
                gpus.Add(new GpuDevice { Name = Text("Card series") ?? Text("Card SKU") ?? card.Name, Vendor = "amd", MemoryTotal = total, MemoryFree = free, Source = "rocm-smi" });
            }
        }
        catch (JsonException)
        {
        }

        return gpus;
    }

    /// <summary>The amdgpu driver's <c>/sys/class/drm/card*/device/mem_info_vram_total</c> and <c>_used</c> (bytes).</summary>
    public static IReadOnlyList<GpuDevice> ReadAmdSysfs(string drmRoot)
    {
        var gpus = new List<GpuDevice>();
        try
        {
            if (!Directory.Exists(drmRoot))
            {
                return gpus;
            }

            foreach (var card in Directory.GetDirectories(drmRoot, "card*").Where(d => !Path.GetFileName(d).Contains('-')).Order(StringComparer.Ordinal))
            {
                var device = Path.Combine(card, "device");
                if (ReadLong(Path.Combine(device, "mem_info_vram_total")) is not { } total || total <= 0)
                {
                    continue;
                }

                var used = ReadLong(Path.Combine(device, "mem_info_vram_used"));
                var name = ReadText(Path.Combine(device, "product_name")) ?? $"AMD GPU ({Path.GetFileName(card)})";
                gpus.Add(new GpuDevice { Name = name, Vendor = "amd", MemoryTotal = total, MemoryFree = used is { } u ? total - u : null, Source = "sysfs" });
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return gpus;
    }

    static long? ReadLong(string file) =>
        ReadText(file) is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;

    static string? ReadText(string file)
    {
        try
        {
            return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Runs a probe tool; its output, or null when it failed, was not there, or took longer than <see cref="ToolTimeout"/>.</summary>
    static string? Run(string file, string arguments)
    {
        try
        {
            var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(ToolTimeout))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }

                return null;
            }

            return process.ExitCode == 0 && output.Wait(ToolTimeout) ? output.Result : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
