using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

public class SuggestionTests
{
    // A provider with no runtime overhead or limits, so memory needs are exactly the stated ones.
    static ProviderRegistry Registry()
    {
        var registry = new ProviderRegistry(new InMemoryProviderDefinitionStore());
        registry.Register(new System.Collections.Hashtable { ["Name"] = "test-gguf", ["SupportedFormats"] = "gguf", ["OptionalCapabilities"] = "chat" });
        return registry;
    }

    // Machine: 10 GiB total, 5 GiB available, 8 cores, RAM read at 20 GB/s, 1 TiB free. Every model has 3B
    // parameters at Q4_K_M (quality 0.481); the file size is the weights. Scores (see CompatibilityScorer):
    //   a  local, 1.5 GiB, chat        memory 1, ~12 tokens/s (speed 1)            → 0.818  Excellent
    //   b  1.5 GiB, chat               the same, not local (after a: local first)  → 0.818  Excellent
    //   c  4.5 GiB, chat               > 80% of available (0.7), ~4 tokens/s       → ~0.66  Good
    //   e  8 GiB, chat + vision        fits total only (0.3), ~2.3 tokens/s, vision unused → Acceptable
    //   d  8 GiB, vision               as e, and no capability the provider uses   → Acceptable, below e
    //   g  12 GiB                      over total memory: not compatible
    //   h  safetensors                 wrong format: not compatible
    static List<ModelInfo> Models() => new()
    {
        Gguf("d", parameters: "3B", size: 8 * GiB, capabilities: new[] { "vision" }),
        Gguf("b", parameters: "3B", size: 3 * GiB / 2, capabilities: new[] { "chat" }),
        Gguf("c", parameters: "3B", size: 9 * GiB / 2, capabilities: new[] { "chat" }),
        Gguf("a", parameters: "3B", size: 3 * GiB / 2, capabilities: new[] { "chat" }, status: ModelStatus.Local),
        Gguf("e", parameters: "3B", size: 8 * GiB, capabilities: new[] { "chat", "vision" }),
        Gguf("g", parameters: "3B", size: 12 * GiB, capabilities: new[] { "chat" }),
        Safetensors("h", size: GiB),
    };

    static CompatibilityService Service() => TestData.Service(Machine(10 * GiB, 5 * GiB, cores: 8, disk: 1024 * GiB, bandwidth: 20e9), Registry());

    [Fact]
    public void Buckets_follow_the_thresholds_and_order_is_best_first()
    {
        var suggestions = Service().GetSuggestions("test-gguf", Models());

        Assert.Equal("test-gguf", suggestions.Provider);
        Assert.Equal(new[] { "a", "b" }, suggestions.Recommendations.Excellent);
        Assert.Equal(new[] { "c" }, suggestions.Recommendations.Good);
        Assert.Equal(new[] { "e", "d" }, suggestions.Recommendations.Acceptable);
        Assert.Equal(5, suggestions.TotalCompatibleModels);
        Assert.Equal(new[] { "a", "b", "c", "e", "d" }, suggestions.Models.Select(m => m.ModelId));
        Assert.Equal(suggestions.Models.Select(m => m.CompatibilityScore).OrderByDescending(x => x), suggestions.Models.Select(m => m.CompatibilityScore));
        Assert.All(suggestions.Models, m => Assert.Equal(SuggestionThresholds.Rate(m.CompatibilityScore), m.Rating));
        Assert.True(suggestions.Models[0].IsLocal);
        Assert.False(suggestions.Models[1].IsLocal);
        Assert.Equal(suggestions.Models[0].CompatibilityScore, suggestions.Models[1].CompatibilityScore);
        Assert.Equal(SuggestionRating.Acceptable, suggestions.Models[^1].Rating);
        Assert.Equal(10 * GiB, suggestions.MemoryBytes);
        Assert.Equal(20e9, suggestions.Machine.MemoryBandwidth);
    }

    [Fact]
    public void Thresholds()
    {
        Assert.Equal(SuggestionRating.Excellent, SuggestionThresholds.Rate(SuggestionThresholds.Excellent));
        Assert.Equal(SuggestionRating.Good, SuggestionThresholds.Rate(0.7999));
        Assert.Equal(SuggestionRating.Acceptable, SuggestionThresholds.Rate(SuggestionThresholds.Acceptable));
        Assert.Equal(SuggestionRating.Poor, SuggestionThresholds.Rate(0.3999));
    }

    [Fact]
    public void MaxMemory_sizes_another_machine()
    {
        // 2 GiB, all of it available: only the 1.5 GiB models fit.
        var suggestions = Service().GetSuggestions("test-gguf", Models(), new SuggestionOptions { MaxMemory = 2 * GiB });
        Assert.Equal(new[] { "a", "b" }, suggestions.Models.Select(m => m.ModelId));
        Assert.Equal(2 * GiB, suggestions.MemoryBytes);
        Assert.True(suggestions.Models[0].Compatibility.Requirements.MemoryOverridden);
    }

    [Fact]
    public void MaxMemory_can_also_be_larger_than_this_machine()
    {
        var suggestions = Service().GetSuggestions("test-gguf", Models(), new SuggestionOptions { MaxMemory = 64 * GiB });
        Assert.Contains("g", suggestions.Models.Select(m => m.ModelId));
        Assert.DoesNotContain("g", Service().GetSuggestions("test-gguf", Models()).Models.Select(m => m.ModelId));
    }

    [Fact]
    public void MaxSize_leaves_out_bigger_downloads()
    {
        var suggestions = Service().GetSuggestions("test-gguf", Models(), new SuggestionOptions { MaxSize = 2 * GiB });
        Assert.Equal(new[] { "a", "b" }, suggestions.Models.Select(m => m.ModelId));
    }

    [Fact]
    public void Builtin_llama_cpp_on_the_tinyllama_family()
    {
        var suggestions = TestData.Service(Machine(16 * GiB, 8 * GiB)).GetSuggestions("llama-cpp", TinyLlamaFamily());
        Assert.Equal(5, suggestions.TotalCompatibleModels);
        Assert.DoesNotContain("tinyllama-1.1b-chat-safetensors", suggestions.Models.Select(m => m.ModelId));
        Assert.Equal(new[] { "gguf" }, suggestions.ProviderCapabilities.SupportedFormats);
    }
}
