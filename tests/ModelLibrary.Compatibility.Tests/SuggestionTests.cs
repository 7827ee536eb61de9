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

    // Machine: 10 GiB total, 5 GiB available, 8 cores, 1 TiB free.
    //   a  local, 1 GB, chat            → 1.0    Excellent
    //   b  1 GB, chat                   → 1.0    Excellent (after a: local first)
    //   c  4.5 GB (≤ available, > 80%)  → 1 - 0.35×0.3            = 0.895 Excellent
    //   e  8 GB, chat + vision          → 1 - 0.15×0.5 - 0.35×0.7 = 0.68  Good
    //   d  8 GB, vision                 → 1 - 0.15     - 0.35×0.7 = 0.605 Good
    //   f  8 GB, vision, 2 TiB download → 0.605 - 0.05            = 0.555 Acceptable
    //   g  12 GB                        → over total memory: not compatible
    //   h  safetensors                  → wrong format: not compatible
    static List<ModelInfo> Models() => new()
    {
        Gguf("d", memory: "8GB", size: 5 * GiB, capabilities: new[] { "vision" }),
        Gguf("b", memory: "1GB", size: GiB / 2, capabilities: new[] { "chat" }),
        Gguf("f", memory: "8GB", size: 2048 * GiB, capabilities: new[] { "vision" }),
        Gguf("c", memory: "4.5GB", size: 3 * GiB, capabilities: new[] { "chat" }),
        Gguf("a", memory: "1GB", size: GiB / 2, capabilities: new[] { "chat" }, status: ModelStatus.Local),
        Gguf("e", memory: "8GB", size: 5 * GiB, capabilities: new[] { "chat", "vision" }),
        Gguf("g", memory: "12GB", size: 8 * GiB, capabilities: new[] { "chat" }),
        Safetensors("h", size: GiB),
    };

    static CompatibilityService Service() => TestData.Service(Machine(10 * GiB, 5 * GiB, cores: 8, disk: 1024 * GiB), Registry());

    [Fact]
    public void Buckets_follow_the_thresholds_and_order_is_best_first()
    {
        var suggestions = Service().GetSuggestions("test-gguf", Models());

        Assert.Equal("test-gguf", suggestions.Provider);
        Assert.Equal(new[] { "a", "b", "c" }, suggestions.Recommendations.Excellent);
        Assert.Equal(new[] { "e", "d" }, suggestions.Recommendations.Good);
        Assert.Equal(new[] { "f" }, suggestions.Recommendations.Acceptable);
        Assert.Equal(6, suggestions.TotalCompatibleModels);
        Assert.Equal(new[] { "a", "b", "c", "e", "d", "f" }, suggestions.Models.Select(m => m.ModelId));
        Assert.Equal(new[] { 1.0, 1.0, 0.895, 0.68, 0.605, 0.555 }, suggestions.Models.Select(m => m.CompatibilityScore));
        Assert.True(suggestions.Models[0].IsLocal);
        Assert.False(suggestions.Models[1].IsLocal);
        Assert.Equal(SuggestionRating.Acceptable, suggestions.Models[^1].Rating);
        Assert.Equal(10 * GiB, suggestions.MemoryBytes);
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
        // 2 GiB, all of it available: only the 1 GB models fit (comfortably: 1 ≤ 0.8 × 2).
        var suggestions = Service().GetSuggestions("test-gguf", Models(), new SuggestionOptions { MaxMemory = 2 * GiB });
        Assert.Equal(new[] { "a", "b" }, suggestions.Models.Select(m => m.ModelId));
        Assert.Equal(2 * GiB, suggestions.MemoryBytes);
        Assert.True(suggestions.Models[0].Compatibility.Requirements.MemoryOverridden);
    }

    [Fact]
    public void MaxMemory_can_also_be_larger_than_this_machine()
    {
        var suggestions = Service().GetSuggestions("test-gguf", Models(), new SuggestionOptions { MaxMemory = 64 * GiB });
        Assert.Contains("g", suggestions.Recommendations.Excellent);
    }

    [Fact]
    public void MaxSize_leaves_out_bigger_downloads()
    {
        var suggestions = Service().GetSuggestions("test-gguf", Models(), new SuggestionOptions { MaxSize = GiB });
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
