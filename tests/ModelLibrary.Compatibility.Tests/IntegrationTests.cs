using System.Diagnostics;
using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

public class HealthMonitorTests
{
    [Fact]
    public async Task Results_are_cached_until_they_expire_or_refresh_is_asked()
    {
        var probe = new FixedProbe(new[] { "ollama" });
        var time = new ManualTimeProvider();
        var monitor = new ProviderHealthMonitor(probe, TimeSpan.FromSeconds(30), time);

        await monitor.CheckAsync(BuiltInProviders.OllamaProvider);
        await monitor.CheckAsync(BuiltInProviders.OllamaProvider);
        Assert.Equal(1, probe.Calls);

        await monitor.CheckAsync(BuiltInProviders.OllamaProvider, refresh: true);
        Assert.Equal(2, probe.Calls);

        time.Now += TimeSpan.FromSeconds(31);
        await monitor.CheckAsync(BuiltInProviders.OllamaProvider);
        Assert.Equal(3, probe.Calls);
    }

    [Fact]
    public async Task Providers_are_checked_in_parallel()
    {
        var probe = new FixedProbe(delay: TimeSpan.FromMilliseconds(400));
        var watch = Stopwatch.StartNew();
        var results = await new ProviderHealthMonitor(probe).CheckAsync(BuiltInProviders.All);
        Assert.Equal(4, results.Count);
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(1200), $"took {watch.Elapsed}");
        Assert.Equal(BuiltInProviders.All.Select(p => p.Name), results.Select(r => r.Provider));
    }
}

public class IntegrationStatusTests
{
    static List<ModelInfo> Models()
    {
        var models = TinyLlamaFamily();
        models.Single(m => m.Id == "tinyllama-1.1b-chat-q4").Status = ModelStatus.Local;
        return models;
    }

    [Fact]
    public async Task Counts_and_statuses()
    {
        var service = Service(Machine(16 * GiB, 8 * GiB), probe: new FixedProbe(new[] { "llama-cpp", "vllm" }));
        var status = await service.GetIntegrationStatusAsync(Models());

        Assert.Equal(IntegrationHealth.Healthy, status.OverallStatus);
        Assert.Equal(4, status.TotalProviders);
        Assert.Equal(2, status.HealthyProviders);
        Assert.Equal(2, status.ProvidersWithModels); // llama-cpp and ollama both load the local GGUF
        Assert.Equal(6, status.TotalCompatibleModels);

        var llama = status.Providers.Single(p => p.Name == "llama-cpp");
        Assert.True(llama.Healthy);
        Assert.Equal(IntegrationHealth.Healthy, llama.Status);
        Assert.Equal(1, llama.LocalModelsCount);
        Assert.Equal(new[] { "tinyllama-1.1b-chat-q4" }, llama.LocalModels);
        Assert.Equal(4, llama.AvailableForDownload);
        Assert.Equal(5, llama.TotalCompatible);
        Assert.Equal("fake: up", llama.Message);
        Assert.Equal(ProbeMethod.Http, llama.ProbeMethod);

        var ollama = status.Providers.Single(p => p.Name == "ollama");
        Assert.Equal(IntegrationHealth.Unhealthy, ollama.Status);
        Assert.True(ollama.HasLocalModels);

        var vllm = status.Providers.Single(p => p.Name == "vllm");
        Assert.Equal(IntegrationHealth.Degraded, vllm.Status); // up, but its one compatible model is not local
        Assert.Equal(1, vllm.TotalCompatible);
        Assert.False(vllm.HasLocalModels);
    }

    [Fact]
    public async Task Degraded_when_no_provider_can_serve_now()
    {
        var service = Service(Machine(16 * GiB, 8 * GiB), probe: new FixedProbe(new[] { "vllm" }));
        var status = await service.GetIntegrationStatusAsync(Models());
        Assert.Equal(IntegrationHealth.Degraded, status.OverallStatus);
    }

    [Fact]
    public async Task Unhealthy_when_nothing_answers_and_nothing_is_local()
    {
        var service = Service(Machine(16 * GiB, 8 * GiB), probe: new FixedProbe());
        var status = await service.GetIntegrationStatusAsync(TinyLlamaFamily());
        Assert.Equal(IntegrationHealth.Unhealthy, status.OverallStatus);
        Assert.Equal(0, status.HealthyProviders);
        Assert.All(status.Providers, p => Assert.Equal(IntegrationHealth.Unhealthy, p.Status));
    }

    [Fact]
    public async Task Registered_providers_are_included()
    {
        var registry = new ProviderRegistry(new InMemoryProviderDefinitionStore());
        registry.RegisterJson("""{"name": "extra", "supported_formats": "gguf"}""");
        var status = await Service(Machine(16 * GiB, 8 * GiB), registry, new FixedProbe(new[] { "extra" })).GetIntegrationStatusAsync(Models());
        Assert.Equal(5, status.TotalProviders);
        Assert.Equal(IntegrationHealth.Healthy, status.Providers.Single(p => p.Name == "extra").Status);
    }
}

public class IntegrationSelfTestTests
{
    static IntegrationSelfTest SelfTest(string root, IProviderHealthProbe probe, Func<CancellationToken, Task<string>> registry)
    {
        var configuration = LibraryConfig(root);
        var service = new CompatibilityService(new ProviderRegistry(new InMemoryProviderDefinitionStore()), Machine(16 * GiB, 8 * GiB), configuration, new ProviderHealthMonitor(probe));
        return new IntegrationSelfTest(service, configuration, _ => Task.FromResult<IReadOnlyList<ModelInfo>>(TinyLlamaFamily()), registry);
    }

    [Fact]
    public async Task Passes_when_setup_is_sound_and_a_provider_is_up()
    {
        using var dir = new TempDirectory();
        var report = await SelfTest(dir.Path, new FixedProbe(new[] { "llama-cpp" }), _ => Task.FromResult("registry.db: 0 models")).RunAsync();

        Assert.True(report.Success, string.Join("\n", report.Steps.Select(s => s.ToString())));
        Assert.Equal("Discover models", report.Steps[0].Name);
        Assert.Contains(report.Steps, s => s.Name == "Check compatibility (llama-cpp)" && s.Success && s.Message.StartsWith("5 compatible"));
        Assert.Contains(report.Steps, s => s.Name == "Validate directories" && s.Success);
        Assert.Contains(report.Steps, s => s.Name == "Check registry" && s.Message == "registry.db: 0 models");
        Assert.Contains(report.Steps, s => s.Name == "Provider health (ollama)" && !s.Success);
        Assert.All(report.Steps, s => Assert.True(s.Duration >= TimeSpan.Zero));
        Assert.Equal(3 + 2 * 4, report.Steps.Length); // discovery, directories, registry; compatibility and health per provider
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "llama-cpp")));
        Assert.Empty(Directory.GetFiles(dir.Path, ".write-test-*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task A_registry_failure_fails_its_step_and_the_test()
    {
        using var dir = new TempDirectory();
        var report = await SelfTest(dir.Path, new FixedProbe(new[] { "llama-cpp" }), _ => throw new InvalidOperationException("database is locked")).RunAsync();
        Assert.False(report.Success);
        var step = report.Steps.Single(s => s.Name == "Check registry");
        Assert.False(step.Success);
        Assert.Equal("database is locked", step.Message);
    }

    [Fact]
    public async Task No_healthy_provider_fails_the_test()
    {
        using var dir = new TempDirectory();
        var report = await SelfTest(dir.Path, new FixedProbe(), _ => Task.FromResult("ok")).RunAsync();
        Assert.False(report.Success);
        Assert.Equal(4, report.Failed);
    }
}
