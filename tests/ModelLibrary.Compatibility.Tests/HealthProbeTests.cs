using System.Diagnostics;

namespace ModelLibrary.Compatibility.Tests;

public class HealthProbeTests : IClassFixture<LoopbackServer>
{
    static readonly TimeSpan ShortTimeout = TimeSpan.FromSeconds(1);
    readonly LoopbackServer server;

    public HealthProbeTests(LoopbackServer server) => this.server = server;

    static ProviderHealthProbe Probe(Dictionary<string, string> environment, TimeSpan? processTimeout = null) =>
        new(environment: name => environment.GetValueOrDefault(name), httpTimeout: ShortTimeout, processTimeout: processTimeout);

    static Task<ProviderHealth> Check(ProviderCapabilities provider, params (string Name, string Value)[] environment) =>
        Probe(environment.ToDictionary(e => e.Name, e => e.Value)).ProbeAsync(provider);

    [Fact]
    public async Task Ollama_healthy_with_host_port_form()
    {
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", $"127.0.0.1:{server.Port}"));
        Assert.True(health.Healthy, health.Message);
        Assert.Equal(ProbeMethod.Http, health.ProbeMethod);
        Assert.Equal($"http://127.0.0.1:{server.Port}/api/tags", health.Endpoint);
        Assert.Equal(new[] { "llama3.2:1b", "nomic-embed-text:latest" }, health.ServedModels);
        Assert.Contains("2 model(s)", health.Message);
        Assert.Equal("ollama", health.Provider);
    }

    [Fact]
    public async Task Ollama_unspecified_address_means_loopback()
    {
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", $"0.0.0.0:{server.Port}"));
        Assert.True(health.Healthy, health.Message);
    }

    [Fact]
    public async Task Ollama_500_is_unhealthy()
    {
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", $"http://127.0.0.1:{server.Port}/broken"));
        Assert.False(health.Healthy);
        Assert.Contains("HTTP 500", health.Message);
    }

    [Fact]
    public async Task A_probe_redirected_to_plain_http_on_another_host_is_not_followed()
    {
        // The configured endpoint may be plain http (the user chose it); where it redirects is held to the rule.
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", $"http://127.0.0.1:{server.Port}/moved"));
        Assert.False(health.Healthy);
        Assert.Contains("redirected to plain http at 'ollama.invalid'", health.Message);
    }

    [Fact]
    public async Task Ollama_that_stalls_times_out()
    {
        var watch = Stopwatch.StartNew();
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", $"http://127.0.0.1:{server.Port}/stall"));
        Assert.False(health.Healthy);
        Assert.Contains("did not answer within 1 s", health.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        Assert.True(health.Latency >= TimeSpan.FromMilliseconds(900));
    }

    [Fact]
    public async Task Ollama_connection_refused()
    {
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", $"127.0.0.1:{LoopbackServer.ClosedPort()}"));
        Assert.False(health.Healthy);
        Assert.Contains("refused", health.Message);
    }

    [Fact]
    public async Task Something_else_on_the_port_is_not_ollama()
    {
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", $"http://127.0.0.1:{server.Port}/other"));
        Assert.False(health.Healthy);
        Assert.Contains("not with a JSON 'models' list", health.Message);
    }

    [Fact]
    public async Task Invalid_OLLAMA_HOST_is_reported()
    {
        var health = await Check(BuiltInProviders.OllamaProvider, ("OLLAMA_HOST", "127.0.0.1:notaport"));
        Assert.False(health.Healthy);
        Assert.Contains("OLLAMA_HOST='127.0.0.1:notaport' is not a valid endpoint", health.Message);
    }

    [Fact]
    public async Task Ollama_default_endpoint_is_used_without_the_variable()
    {
        var health = await Check(BuiltInProviders.OllamaProvider);
        Assert.Equal("http://127.0.0.1:11434/api/tags", health.Endpoint);
    }

    [Fact]
    public async Task Vllm_healthy_with_v1_endpoint()
    {
        var health = await Check(BuiltInProviders.VllmProvider, ("VLLM_ENDPOINT", $"http://127.0.0.1:{server.Port}/v1"));
        Assert.True(health.Healthy, health.Message);
        Assert.Equal($"http://127.0.0.1:{server.Port}/v1/models", health.Endpoint);
        Assert.Equal(new[] { "Qwen/Qwen2.5-0.5B-Instruct" }, health.ServedModels);
    }

    [Fact]
    public async Task Vllm_host_variable()
    {
        var health = await Check(BuiltInProviders.VllmProvider, ("VLLM_HOST", $"127.0.0.1:{server.Port}"));
        Assert.True(health.Healthy, health.Message);
    }

    [Fact]
    public async Task Vllm_500_stall_and_refused()
    {
        var broken = await Check(BuiltInProviders.VllmProvider, ("VLLM_ENDPOINT", $"http://127.0.0.1:{server.Port}/broken"));
        Assert.False(broken.Healthy);
        Assert.Contains("HTTP 500", broken.Message);

        var stalled = await Check(BuiltInProviders.VllmProvider, ("VLLM_ENDPOINT", $"http://127.0.0.1:{server.Port}/stall"));
        Assert.False(stalled.Healthy);
        Assert.Contains("did not answer", stalled.Message);

        var refused = await Check(BuiltInProviders.VllmProvider, ("VLLM_ENDPOINT", $"http://127.0.0.1:{LoopbackServer.ClosedPort()}"));
        Assert.False(refused.Healthy);
        Assert.Contains("refused", refused.Message);
    }

    [Fact]
    public async Task Llama_server_endpoint_health()
    {
        var health = await Check(BuiltInProviders.LlamaCppProvider, ("LLAMA_CPP_ENDPOINT", $"127.0.0.1:{server.Port}"), ("PATH", ""));
        Assert.True(health.Healthy, health.Message);
        Assert.Equal(ProbeMethod.Http, health.ProbeMethod);
        Assert.Equal($"http://127.0.0.1:{server.Port}/health", health.Endpoint);
    }

    [UnixFact]
    public async Task Llama_server_on_PATH()
    {
        using var dir = new TempDirectory();
        var script = dir.Script("llama-server", "echo fake llama-server");
        var health = await Check(BuiltInProviders.LlamaCppProvider, ("PATH", "/nonexistent" + Path.PathSeparator + dir.Path));
        Assert.True(health.Healthy, health.Message);
        Assert.Equal(ProbeMethod.Executable, health.ProbeMethod);
        Assert.Equal(script, health.Endpoint);
    }

    [UnixFact]
    public async Task Endpoint_down_falls_back_to_PATH_and_says_so()
    {
        using var dir = new TempDirectory();
        dir.Script("llama-cli", "exit 0");
        var health = await Check(BuiltInProviders.LlamaCppProvider,
            ("PATH", dir.Path), ("LLAMA_CPP_ENDPOINT", $"127.0.0.1:{LoopbackServer.ClosedPort()}"));
        Assert.True(health.Healthy, health.Message);
        Assert.Contains("llama-cli found", health.Message);
        Assert.Contains("refused", health.Message);
    }

    [UnixFact]
    public async Task A_file_without_the_executable_bit_does_not_count()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, "llama-server"), "#!/bin/sh\n");
        var health = await Check(BuiltInProviders.LlamaCppProvider, ("PATH", dir.Path));
        Assert.False(health.Healthy);
        Assert.Contains("None of llama-server, llama-cli is on PATH", health.Message);
    }

    [UnixFact]
    public async Task Transformers_importable()
    {
        using var dir = new TempDirectory();
        dir.Script("python3", """[ "$3" = "transformers" ] && printf '4.99.0' && exit 0; exit 3""");
        var health = await Check(BuiltInProviders.TransformersProvider, ("PATH", dir.Path));
        Assert.True(health.Healthy, health.Message);
        Assert.Equal(ProbeMethod.PythonModule, health.ProbeMethod);
        Assert.Contains("imports transformers 4.99.0", health.Message);
    }

    [UnixFact]
    public async Task Transformers_missing_reports_the_python_error()
    {
        using var dir = new TempDirectory();
        dir.Script("python3", """echo "Traceback (most recent call last):" >&2; echo "ModuleNotFoundError: No module named 'transformers'" >&2; exit 1""");
        var health = await Check(BuiltInProviders.TransformersProvider, ("PATH", dir.Path));
        Assert.False(health.Healthy);
        Assert.EndsWith("ModuleNotFoundError: No module named 'transformers'", health.Message);
    }

    [UnixFact]
    public async Task Second_python_is_tried_when_the_first_cannot_import()
    {
        using var dir = new TempDirectory();
        dir.Script("python3", "exit 1");
        dir.Script("python", "printf '4.1'");
        var health = await Check(BuiltInProviders.TransformersProvider, ("PATH", dir.Path));
        Assert.True(health.Healthy, health.Message);
        Assert.EndsWith(Path.Combine(dir.Path, "python"), health.Endpoint);
    }

    [UnixFact]
    public async Task Python_that_hangs_is_killed()
    {
        using var dir = new TempDirectory();
        var pidFile = Path.Combine(dir.Path, "pid");
        dir.Script("python3", $"echo $$ > '{pidFile}'; exec sleep 30");
        var watch = Stopwatch.StartNew();
        var health = await Probe(new() { ["PATH"] = dir.Path }, processTimeout: TimeSpan.FromMilliseconds(500)).ProbeAsync(BuiltInProviders.TransformersProvider);
        Assert.False(health.Healthy);
        Assert.Contains("was stopped", health.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");

        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        await Task.Delay(200);
        Assert.False(ProcessAlive(pid), "the probe's child process is still running");
    }

    [Fact]
    public async Task No_python_on_PATH()
    {
        using var dir = new TempDirectory();
        var health = await Check(BuiltInProviders.TransformersProvider, ("PATH", dir.Path));
        Assert.False(health.Healthy);
        Assert.Contains("No Python interpreter", health.Message);
    }

    [Fact]
    public async Task No_check_defined()
    {
        var provider = ProviderDefinition.ParseJson("""{"name": "x", "supported_formats": "gguf"}""");
        var health = await Check(provider);
        Assert.False(health.Healthy);
        Assert.Equal(ProbeMethod.None, health.ProbeMethod);
    }

    static bool ProcessAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
