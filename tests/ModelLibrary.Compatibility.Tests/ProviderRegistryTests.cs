using System.Collections;

namespace ModelLibrary.Compatibility.Tests;

public class ProviderRegistryTests
{
    readonly InMemoryProviderDefinitionStore store = new();
    ProviderRegistry Registry() => new(store);

    [Fact]
    public void Builtins_are_listed_in_order()
    {
        var names = Registry().List().Select(p => p.Name);
        Assert.Equal(new[] { "llama-cpp", "transformers", "ollama", "vllm" }, names);
        Assert.All(Registry().List(), p => Assert.True(p.BuiltIn));
        Assert.Equal(new[] { "safetensors", "pytorch" }, Registry().Get("Transformers").SupportedFormats);
    }

    [Fact]
    public void Registers_a_hashtable_and_persists_it()
    {
        var provider = Registry().Register(new Hashtable
        {
            ["Name"] = "my-runtime",
            ["SupportedFormats"] = new object[] { "GGUF", "ggml" },
            ["RequiredCapabilities"] = "text-generation",
            ["MemoryRequirements"] = "2GB",
            ["ModelSizeLimits"] = new Hashtable { ["MinSize"] = 100L * 1024 * 1024, ["MaxSize"] = "10GB" },
            ["PerformanceCharacteristics"] = new Hashtable { ["InferenceType"] = "local", ["QuantizationSupport"] = "good" },
            ["HealthCheck"] = new Hashtable { ["Endpoint"] = "127.0.0.1:9000", ["Path"] = "status" },
        });

        Assert.Equal(new[] { "gguf", "ggml" }, provider.SupportedFormats);
        Assert.Equal(2L * 1024 * 1024 * 1024, provider.MemoryRequirements.Min);
        Assert.Equal(10L * 1024 * 1024 * 1024, provider.ModelSizeLimits.MaxSize);
        Assert.Equal(ProbeMethod.Http, provider.HealthCheck.Method);
        Assert.Equal("/status", provider.HealthCheck.Path);
        Assert.False(provider.BuiltIn);

        // A new registry over the same store sees it: it is persisted as JSON, not held in memory.
        var again = new ProviderRegistry(store).Get("MY-RUNTIME");
        Assert.Equal("my-runtime", again.Name);
        Assert.Equal(provider.ModelSizeLimits.MinSize, again.ModelSizeLimits.MinSize);
        Assert.Equal("good", again.PerformanceCharacteristics.QuantizationSupport);
        Assert.Equal("my-runtime", Registry().List()[^1].Name);
    }

    [Fact]
    public void Registers_the_seed_example_as_json()
    {
        const string json = """
        {
            "name": "new-provider",
            "supported_formats": ["custom-format"],
            "required_capabilities": ["text-generation"],
            "optional_capabilities": ["chat"],
            "memory_requirements": {"min": 1073741824},
            "performance_characteristics": {"inference_type": "local", "optimization": "gpu_optimized", "quantization_support": "good"},
            "model_size_limits": {"min_size": 104857600, "max_size": 10737418240}
        }
        """;
        var provider = Registry().RegisterJson(json);
        Assert.Equal(1073741824, provider.MemoryRequirements.Min);
        Assert.Equal("gpu_optimized", provider.PerformanceCharacteristics.Optimization);
        Assert.Equal(ProbeMethod.None, provider.HealthCheck.Method);
    }

    [Fact]
    public void Registers_from_a_file()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "p.json");
        File.WriteAllText(file, """{"Name": "from-file", "SupportedFormats": "onnx"}""");
        Assert.Equal("from-file", Registry().RegisterFile(file).Name);
        var missing = Assert.Throws<ModelLibraryException>(() => Registry().RegisterFile(Path.Combine(dir.Path, "none.json")));
        Assert.Equal(ErrorIds.InvalidProviderDefinition, missing.ErrorId);
    }

    public static IEnumerable<object[]> BadDefinitions() => new[]
    {
        new object[] { new Hashtable { ["SupportedFormats"] = "gguf" }, "'name' is missing" },
        new object[] { new Hashtable { ["Name"] = "x" }, "'supported_formats' is missing" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = new string[0] }, "'supported_formats' is missing or empty" },
        new object[] { new Hashtable { ["Name"] = "x", ["SuportedFormats"] = "gguf" }, "'SuportedFormats' is not a known key" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = 42 }, "must be a string or a list of strings" },
        new object[] { new Hashtable { ["Name"] = 7, ["SupportedFormats"] = "gguf" }, "'name' must be a string" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["MemoryRequirements"] = true }, "whole number of bytes" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["RuntimeOverhead"] = -1 }, "must not be negative" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["ModelSizeLimits"] = new Hashtable { ["MinSize"] = "2GB", ["MaxSize"] = "1GB" } }, "is larger than max_size" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["ModelSizeLimits"] = "1GB" }, "must be a table" },
        new object[] { new Hashtable { ["Name"] = "bad name!", ["SupportedFormats"] = "gguf" }, "must start with a letter or digit" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["HealthCheck"] = new Hashtable { ["Method"] = "telepathy" } }, "is not one of http" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["HealthCheck"] = new Hashtable { ["Method"] = "http" } }, "needs an 'endpoint'" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["HealthCheck"] = new Hashtable { ["Module"] = "os; os.system('x')" } }, "is not a Python module name" },
        new object[] { new Hashtable { ["Name"] = "x", ["SupportedFormats"] = "gguf", ["HealthCheck"] = new Hashtable { ["Endpoint"] = "ftp://h" } }, "is not valid" },
    };

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public void Bad_definitions_are_refused_clearly(Hashtable definition, string expected)
    {
        var error = Assert.Throws<ModelLibraryException>(() => Registry().Register(definition));
        Assert.Equal(ErrorIds.InvalidProviderDefinition, error.ErrorId);
        Assert.Equal(ErrorKind.InvalidArgument, error.Kind);
        Assert.Contains(expected, error.Message);
        Assert.NotEmpty(error.ErrorInfo.ResolutionSteps);
        Assert.Empty(store.List());
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var error = Assert.Throws<ModelLibraryException>(() => Registry().Register(new Hashtable { ["Typo"] = 1, ["MemoryRequirements"] = "lots" }));
        var problems = (string[])error.ErrorInfo.Details["problems"]!;
        Assert.Equal(4, problems.Length); // unknown key, no name, no formats, bad size
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"name": "x", "supported_formats": "gguf", "name": "y"}""")]
    public void Bad_json_is_refused(string json)
    {
        var error = Assert.Throws<ModelLibraryException>(() => Registry().RegisterJson(json));
        Assert.Equal(ErrorIds.InvalidProviderDefinition, error.ErrorId);
    }

    [Fact]
    public void A_builtin_name_needs_force_and_then_overrides()
    {
        var definition = new Hashtable { ["Name"] = "LLAMA-CPP", ["SupportedFormats"] = new[] { "gguf", "ggml" } };
        var clash = Assert.Throws<ModelLibraryException>(() => Registry().Register(definition));
        Assert.Equal(ErrorIds.ProviderExists, clash.ErrorId);
        Assert.Equal(ErrorKind.ResourceExists, clash.Kind);

        var replaced = Registry().Register(definition, force: true);
        Assert.Equal("llama-cpp", replaced.Name);
        var listed = Registry().List();
        Assert.Equal(4, listed.Count);
        Assert.Equal(new[] { "gguf", "ggml" }, listed[0].SupportedFormats);
        Assert.False(listed[0].BuiltIn);

        // Unregistering the override brings the built-in back.
        Registry().Unregister("llama-cpp");
        Assert.True(Registry().Get("llama-cpp").BuiltIn);
        var builtIn = Assert.Throws<ModelLibraryException>(() => Registry().Unregister("llama-cpp"));
        Assert.Equal(ErrorIds.InvalidProviderDefinition, builtIn.ErrorId);
    }

    [Fact]
    public void Re_registering_needs_force()
    {
        Registry().RegisterJson("""{"name": "twice", "supported_formats": "gguf"}""");
        Assert.Equal(ErrorIds.ProviderExists, Assert.Throws<ModelLibraryException>(() => Registry().RegisterJson("""{"name": "Twice", "supported_formats": "onnx"}""")).ErrorId);
        Registry().RegisterJson("""{"name": "Twice", "supported_formats": "onnx"}""", force: true);
        Assert.Equal(new[] { "onnx" }, Registry().Get("twice").SupportedFormats);
        Assert.Single(store.List());
    }

    [Fact]
    public void Unknown_provider_is_ProviderNotFound()
    {
        var error = Assert.Throws<ModelLibraryException>(() => Registry().Get("nope"));
        Assert.Equal(ErrorIds.ProviderNotFound, error.ErrorId);
        Assert.Contains("llama-cpp", error.Message);
        Assert.Equal(ErrorIds.ProviderNotFound, Assert.Throws<ModelLibraryException>(() => Registry().Unregister("nope")).ErrorId);
    }

    [Fact]
    public void A_corrupt_stored_definition_is_skipped_with_a_warning()
    {
        store.Save(new StoredProviderDefinition("broken", "{ nope"));
        var registry = Registry();
        Assert.Equal(4, registry.List().Count);
        Assert.Contains(registry.Warnings, w => w.Contains("broken"));
    }

    [Fact]
    public void Json_round_trip_keeps_everything()
    {
        var original = BuiltInProviders.OllamaProvider;
        var copy = ProviderDefinition.ParseJson(ProviderDefinition.ToJson(original));
        Assert.Equal(ProviderDefinition.ToJson(original), ProviderDefinition.ToJson(copy));
        Assert.Equal(original.HealthCheck.CacheKeyForTest(), copy.HealthCheck.CacheKeyForTest());
    }
}

static class HealthCheckExtensions
{
    public static string CacheKeyForTest(this ProviderHealthCheck check) =>
        string.Join("|", check.Method, check.Endpoint, string.Join(",", check.EndpointVariables), check.DefaultPort, check.Path, check.ListProperty, string.Join(",", check.Executables), check.PythonModule);
}
