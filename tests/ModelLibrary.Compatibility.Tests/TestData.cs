using System.Collections;
using ModelLibrary.Configuration;

namespace ModelLibrary.Compatibility.Tests;

static class TestData
{
    public const long MiB = 1024L * 1024;
    public const long GiB = 1024 * MiB;

    public static ModelInfo Gguf(string id, string? parameters = "1.1B", string? quantization = "Q4_K_M", long? size = null,
        long? contextLength = 2048, string[]? capabilities = null, string architecture = "llama", string? memory = null,
        ModelStatus status = ModelStatus.Available, string? name = null) => new()
        {
            Id = id,
            Name = name ?? id,
            Provider = "llama-cpp",
            Format = "gguf",
            Size = size,
            Status = status,
            Capabilities = capabilities ?? new[] { "text-generation", "chat", "instruction-following" },
            Metadata = new ModelMetadata
            {
                Parameters = parameters,
                Quantization = quantization,
                ContextLength = contextLength,
                Architecture = architecture,
                MemoryRequirement = memory,
            },
        };

    public static ModelInfo Safetensors(string id, string parameters = "1.1B", long? size = null, string architecture = "llama") => new()
    {
        Id = id,
        Name = id,
        Provider = "transformers",
        Format = "safetensors",
        Size = size,
        Capabilities = new[] { "text-generation", "chat", "instruction-following" },
        Metadata = new ModelMetadata { Parameters = parameters, ContextLength = 2048, Architecture = architecture },
    };

    /// <summary>The TinyLlama quantizations of the real catalog.</summary>
    public static List<ModelInfo> TinyLlamaFamily() => new()
    {
        Gguf("tinyllama-1.1b-chat-q2", quantization: "Q2_K"),
        Gguf("tinyllama-1.1b-chat-q3", quantization: "Q3_K_M", size: 550819200),
        Gguf("tinyllama-1.1b-chat-q4", quantization: "Q4_K_M", size: 668788096),
        Gguf("tinyllama-1.1b-chat-q5", quantization: "Q5_K_M", size: 783017344),
        Gguf("tinyllama-1.1b-chat-q8", quantization: "Q8_0", size: 1170781568),
        Safetensors("tinyllama-1.1b-chat-safetensors", size: 2200119864),
    };

    /// <param name="bandwidth">RAM bandwidth in bytes per second; null: not measured (speed scores 0.5, unknown).</param>
    public static FixedMachineResources Machine(long total, long available, int cores = 8, long? disk = 100 * GiB, double? bandwidth = null, params GpuDevice[] gpus) =>
        new(total, available, cores, disk) { MemoryBandwidth = bandwidth, Gpus = gpus };

    public static LibraryConfiguration LibraryConfig(string root) => LibraryConfiguration.FromEnvironment(new Hashtable { ["MODELS_DIR"] = root });

    public static CompatibilityService Service(IMachineResources machine, ProviderRegistry? registry = null, IProviderHealthProbe? probe = null) =>
        new(registry ?? new ProviderRegistry(new InMemoryProviderDefinitionStore()), machine,
            LibraryConfig(Path.Combine(Path.GetTempPath(), "modellibrary-compat-tests")), new ProviderHealthMonitor(probe ?? new FixedProbe()));
}

/// <summary>Answers from a table instead of checking anything; counts calls.</summary>
sealed class FixedProbe : IProviderHealthProbe
{
    readonly HashSet<string> healthy;
    readonly TimeSpan delay;
    int calls;

    public FixedProbe(IEnumerable<string>? healthy = null, TimeSpan? delay = null)
    {
        this.healthy = new HashSet<string>(healthy ?? Array.Empty<string>(), StringComparer.OrdinalIgnoreCase);
        this.delay = delay ?? TimeSpan.Zero;
    }

    public int Calls => calls;

    /// <summary>Reads no environment, so only the recipe keys the cache.</summary>
    public string EnvironmentFingerprint(ProviderHealthCheck check) => "";

    public async Task<ProviderHealth> ProbeAsync(ProviderCapabilities provider, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref calls);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, cancellationToken);
        }

        var ok = healthy.Contains(provider.Name);
        return new ProviderHealth
        {
            Provider = provider.Name,
            Healthy = ok,
            ProbeMethod = ProbeMethod.Http,
            Endpoint = "http://fake",
            Message = ok ? "fake: up" : "fake: down",
            CheckedAt = DateTimeOffset.UtcNow,
        };
    }
}

sealed class ManualTimeProvider : TimeProvider
{
    public DateTimeOffset Now { get; set; } = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>A fact that runs only where shell scripts and the executable bit exist.</summary>
sealed class UnixFactAttribute : FactAttribute
{
    public UnixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Needs a Unix shell and the executable bit.";
        }
    }
}

/// <summary>A temporary directory removed after the test.</summary>
sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ml-compat-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Writes an executable shell script.</summary>
    public string Script(string name, string body)
    {
        var file = System.IO.Path.Combine(Path, name);
        File.WriteAllText(file, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return file;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
