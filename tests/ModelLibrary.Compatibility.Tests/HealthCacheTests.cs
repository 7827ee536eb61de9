namespace ModelLibrary.Compatibility.Tests;

/// <summary>
/// The health cache against two real loopback servers: a result is reused while the endpoint settings the probe reads
/// are unchanged, and a changed setting (OLLAMA_HOST, VLLM_ENDPOINT, LLAMA_CPP_ENDPOINT, a registered endpoint) is
/// probed anew. The clock is frozen, so nothing expires during a test.
/// </summary>
public sealed class HealthCacheTests : IAsyncLifetime
{
    readonly LoopbackServer first = new();
    readonly LoopbackServer second = new();
    readonly Dictionary<string, string> environment = new();
    ProviderHealthMonitor monitor = null!;

    public async Task InitializeAsync()
    {
        await Task.WhenAll(first.InitializeAsync(), second.InitializeAsync());
        var probe = new ProviderHealthProbe(environment: name => environment.GetValueOrDefault(name), httpTimeout: TimeSpan.FromSeconds(1));
        monitor = new ProviderHealthMonitor(probe, TimeSpan.FromSeconds(30), new ManualTimeProvider());
    }

    public async Task DisposeAsync() => await Task.WhenAll(first.DisposeAsync(), second.DisposeAsync());

    [Fact]
    public async Task A_changed_OLLAMA_HOST_is_probed_anew_and_an_unchanged_one_is_served_from_the_cache()
    {
        environment["OLLAMA_HOST"] = $"127.0.0.1:{first.Port}";
        var atFirst = await monitor.CheckAsync(BuiltInProviders.OllamaProvider);
        Assert.True(atFirst.Healthy, atFirst.Message);
        Assert.Equal($"http://127.0.0.1:{first.Port}/api/tags", atFirst.Endpoint);
        Assert.Same(atFirst, await monitor.CheckAsync(BuiltInProviders.OllamaProvider));

        environment["OLLAMA_HOST"] = $"127.0.0.1:{second.Port}";
        var atSecond = await monitor.CheckAsync(BuiltInProviders.OllamaProvider);
        Assert.True(atSecond.Healthy, atSecond.Message);
        Assert.Equal($"http://127.0.0.1:{second.Port}/api/tags", atSecond.Endpoint);
        Assert.Same(atSecond, await monitor.CheckAsync(BuiltInProviders.OllamaProvider));

        // Back to the first host within the cache's lifetime: its answer is still good.
        environment["OLLAMA_HOST"] = $"127.0.0.1:{first.Port}";
        Assert.Same(atFirst, await monitor.CheckAsync(BuiltInProviders.OllamaProvider));
    }

    [Fact]
    public async Task A_host_that_went_away_is_not_reported_healthy_from_the_cache()
    {
        environment["OLLAMA_HOST"] = $"127.0.0.1:{first.Port}";
        Assert.True((await monitor.CheckAsync(BuiltInProviders.OllamaProvider)).Healthy);

        environment["OLLAMA_HOST"] = $"127.0.0.1:{LoopbackServer.ClosedPort()}";
        var moved = await monitor.CheckAsync(BuiltInProviders.OllamaProvider);
        Assert.False(moved.Healthy);
        Assert.Contains("refused", moved.Message);
    }

    [Fact]
    public async Task An_earlier_vLLM_variable_that_becomes_set_takes_over_without_waiting_for_the_cache()
    {
        environment["VLLM_HOST"] = $"127.0.0.1:{first.Port}";
        var byHost = await monitor.CheckAsync(BuiltInProviders.VllmProvider);
        Assert.Equal($"http://127.0.0.1:{first.Port}/v1/models", byHost.Endpoint);

        // VLLM_ENDPOINT comes before VLLM_HOST, so setting it moves the probe even though VLLM_HOST is unchanged.
        environment["VLLM_ENDPOINT"] = $"http://127.0.0.1:{second.Port}/v1";
        var byEndpoint = await monitor.CheckAsync(BuiltInProviders.VllmProvider);
        Assert.True(byEndpoint.Healthy, byEndpoint.Message);
        Assert.Equal($"http://127.0.0.1:{second.Port}/v1/models", byEndpoint.Endpoint);
    }

    [Fact]
    public async Task A_changed_llama_server_endpoint_is_probed_anew()
    {
        environment["PATH"] = "";
        environment["LLAMA_CPP_ENDPOINT"] = $"127.0.0.1:{first.Port}";
        Assert.Equal($"http://127.0.0.1:{first.Port}/health", (await monitor.CheckAsync(BuiltInProviders.LlamaCppProvider)).Endpoint);

        environment["LLAMA_CPP_ENDPOINT"] = $"127.0.0.1:{second.Port}";
        Assert.Equal($"http://127.0.0.1:{second.Port}/health", (await monitor.CheckAsync(BuiltInProviders.LlamaCppProvider)).Endpoint);
    }

    [Fact]
    public async Task A_provider_registered_again_with_another_endpoint_is_probed_anew()
    {
        var registry = new ProviderRegistry(new InMemoryProviderDefinitionStore());
        var atFirst = registry.RegisterJson($$$"""{"name": "team-ollama", "supported_formats": "gguf", "health_check": {"endpoint": "http://127.0.0.1:{{{first.Port}}}", "path": "/api/tags"}}""");
        Assert.Equal($"http://127.0.0.1:{first.Port}/api/tags", (await monitor.CheckAsync(atFirst)).Endpoint);

        var atSecond = registry.RegisterJson($$$"""{"name": "team-ollama", "supported_formats": "gguf", "health_check": {"endpoint": "http://127.0.0.1:{{{second.Port}}}", "path": "/api/tags"}}""", force: true);
        Assert.Equal($"http://127.0.0.1:{second.Port}/api/tags", (await monitor.CheckAsync(atSecond)).Endpoint);
    }

    [Fact]
    public async Task The_fingerprint_covers_every_variable_a_probe_reads()
    {
        foreach (var provider in BuiltInProviders.All)
        {
            var read = new HashSet<string>(StringComparer.Ordinal);
            var probe = new ProviderHealthProbe(environment: name =>
            {
                lock (read)
                {
                    read.Add(name);
                }

                // Every endpoint refuses and PATH is empty, so each probe walks all of its steps quickly.
                return name.StartsWith("PATH", StringComparison.Ordinal) ? "" : $"127.0.0.1:{LoopbackServer.ClosedPort()}";
            }, httpTimeout: TimeSpan.FromSeconds(1));

            await probe.ProbeAsync(provider);
            var readByProbe = read.ToHashSet(StringComparer.Ordinal);
            var fingerprinted = probe.EnvironmentFingerprint(provider.HealthCheck).Split('\n').Select(line => line[..line.IndexOf('=')]);
            Assert.Subset(fingerprinted.ToHashSet(StringComparer.Ordinal), readByProbe);
        }
    }
}
