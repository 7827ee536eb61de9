using System.Text.Json;
using Xunit.Abstractions;
using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

/// <summary>The real catalog (embedded in Core) through the scorer: the numbers must make sense for real models.</summary>
public class RealCatalogTests
{
    readonly ITestOutputHelper output;

    public RealCatalogTests(ITestOutputHelper output) => this.output = output;

    /// <summary>A minimal mapping of the seed catalog's flat entries; the catalog engineer owns the real one.</summary>
    static List<ModelInfo> Catalog()
    {
        using var stream = typeof(ModelInfo).Assembly.GetManifestResourceStream("ModelLibrary.Catalog.catalog-seed.json")!;
        using var document = JsonDocument.Parse(stream);
        string? S(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long? L(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt64() : null;
        return document.RootElement.EnumerateArray().Select(e => new ModelInfo
        {
            Id = S(e, "id")!,
            Name = S(e, "name")!,
            Provider = S(e, "provider")!,
            Format = S(e, "format"),
            FileName = S(e, "filename"),
            Size = L(e, "size"),
            Capabilities = e.GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()!).ToArray(),
            Metadata = new ModelMetadata
            {
                Parameters = S(e, "parameters"),
                Quantization = S(e, "quantization"),
                ContextLength = L(e, "context_length"),
                Architecture = S(e, "architecture"),
            },
        }).ToList();
    }

    [Fact]
    public void Seed_expectation_tinyllama_on_llama_cpp()
    {
        var result = Service(Machine(16 * GiB, 8 * GiB, cores: 4)).CheckCompatibility("tinyllama-1.1b-chat-q4", "llama-cpp", Catalog());
        Assert.True(result.Compatible);
        Assert.True(result.CompatibilityScore > 0.5);
        foreach (var reason in result.Reasons)
        {
            output.WriteLine(reason);
        }
    }

    [Fact]
    public void An_8GB_laptop()
    {
        var catalog = Catalog();
        // Dual-channel DDR4 reads about 20 GB/s.
        var service = Service(Machine(8 * GiB, 5 * GiB, cores: 4, bandwidth: 20e9));
        var llama = service.GetSuggestions("llama-cpp", catalog);
        foreach (var m in llama.Models)
        {
            output.WriteLine($"{m.CompatibilityScore:0.000} {m.Rating,-10} {m.ModelId} {ByteSize.Format(m.MemoryBytes ?? 0)} {m.TokensPerSecond} t/s");
        }

        // A 3B model that still reads faster than 10 tokens/s is the best here; TinyLlama is fast but small (Good);
        // 8B models fit but crawl at under 4 tokens/s.
        Assert.Contains("llama-3.2-3b-instruct-q4", llama.Recommendations.Excellent);
        Assert.Contains("tinyllama-1.1b-chat-q4", llama.Recommendations.Good);
        Assert.DoesNotContain("llama-3.1-8b-instruct-q4", llama.Recommendations.Excellent);
        Assert.DoesNotContain("llama-3.3-70b-instruct-q4", llama.Models.Select(m => m.ModelId));
        Assert.DoesNotContain("smolvlm-500m-instruct-mmproj-q8", llama.Models.Select(m => m.ModelId)); // a projector, not a model
        Assert.All(llama.Models, m => Assert.Equal("gguf", m.Format));

        var big = service.CheckCompatibility("llama-3.3-70b-instruct-q4", "llama-cpp", catalog);
        Assert.False(big.Compatible);
        foreach (var line in big.Reasons.Concat(big.Recommendations))
        {
            output.WriteLine(line);
        }

        var transformers = service.GetSuggestions("transformers", catalog);
        Assert.Equal(5, transformers.TotalCompatibleModels);
        Assert.Equal(5, service.GetSuggestions("vllm", catalog).TotalCompatibleModels);
        // vLLM wants 8 GiB of RAM before any model.
        Assert.Equal(0, Service(Machine(6 * GiB, 5 * GiB)).GetSuggestions("vllm", catalog).TotalCompatibleModels);

        // A quantization read from the id ("-q4") still gives a memory estimate.
        var phi = llama.Models.Single(m => m.ModelId == "phi-3-mini-4k-instruct-q4");
        Assert.Equal("Q4_K_M", phi.Quantization);
        Assert.Equal(MemoryEstimateMethod.Parameters, phi.Compatibility.Requirements.MemoryEstimate.Method);
    }
}
