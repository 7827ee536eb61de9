using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

public class ScoringTests
{
    // No file size: the catalog's stated 4 GB is the whole need (a size would make the file the weights).
    static ModelInfo FourGigModel() =>
        Gguf("four-gig", memory: "4GB", capabilities: new[] { "text-generation", "chat" });

    [Fact]
    public void Just_under_total_memory_is_compatible_with_a_low_memory_score()
    {
        // Needs 4 GiB; the machine has 4 GiB + 1 MiB in all but only 2 GiB available, and reads RAM at 10 GB/s:
        // memory fits the total only (0.3); 4 GiB read per token → about 2.3 tokens/s, slow.
        var service = Service(Machine(4 * GiB + MiB, 2 * GiB, cores: 2, bandwidth: 10e9));
        var result = service.CheckCompatibility(FourGigModel(), "llama-cpp", new[] { FourGigModel() });

        Assert.True(result.Compatible);
        Assert.Equal(0.3, result.Factors.Single(f => f.Name == "Memory").Score);
        Assert.Equal(4 * GiB, result.Requirements.MemoryBytes);
        Assert.Equal(4 * GiB + MiB, result.Requirements.TotalMemoryBytes);
        Assert.Equal(2 * GiB, result.Requirements.AvailableMemoryBytes);
        Assert.Equal(2.3, result.Requirements.TokensPerSecond!.Value, 1);
        Assert.Equal(ModelPlacement.Cpu, result.Requirements.Placement);
        Assert.Equal(9, result.Reasons.Length);
        Assert.Contains(result.Recommendations, r => r.Contains("Close other programs"));
        Assert.Contains(result.Recommendations, r => r.StartsWith("Expect about 2.3 tokens/s"));
    }

    [Fact]
    public void Just_over_total_memory_is_not_compatible_says_by_how_much_and_scores_below_every_bucket()
    {
        // Same model, 4 GiB - 1 MiB in all: memory blocks; the reason gives the need, the machine and the shortfall.
        var service = Service(Machine(4 * GiB - MiB, 2 * GiB, cores: 2));
        var result = service.CheckCompatibility(FourGigModel(), "llama-cpp", new[] { FourGigModel() });

        Assert.False(result.Compatible);
        Assert.True(result.Factors.Single(f => f.Name == "Memory").Blocking);
        Assert.Contains(result.Reasons, r => r.Contains("Needs about 4.0 GB") && r.Contains("more than this machine's") && r.Contains("1.0 MB short"));
        Assert.Equal(MiB, result.Requirements.MemoryShortfallBytes);
        // Capped: an incompatible model never scores into a bucket (before, this one scored 0.6, "Good").
        Assert.True(result.CompatibilityScore < SuggestionThresholds.Acceptable);
        Assert.Equal(Math.Round(result.Factors.Sum(f => f.Contribution) * CompatibilityScorer.IncompatibleScale, 3), result.CompatibilityScore);
        Assert.Contains(result.Recommendations, r => r.StartsWith("Choose a smaller model"));
    }

    [Fact]
    public void Comfortable_fit_on_a_big_fast_machine_scores_by_quality()
    {
        // Memory to spare and 100 GB/s: memory and speed are full marks; what remains is the model's quality
        // (1.1B parameters → 0.366 on the size scale, Q4_K_M keeps 0.927 of it → 0.339).
        var service = Service(Machine(16 * GiB, 8 * GiB, bandwidth: 100e9));
        var model = Gguf("tinyllama-1.1b-chat-q4", size: 668788096);
        var result = service.CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.True(result.Compatible);
        Assert.Equal(1.0, result.Factors.Single(f => f.Name == "Memory").Score);
        Assert.Equal(1.0, result.Factors.Single(f => f.Name == "Speed").Score);
        Assert.Equal(0.339, result.Factors.Single(f => f.Name == "Quality").Score, 3);
        // 0.2 (format, capabilities, size, disk) + 0.2 (memory) + 0.6 × √(1 × 0.339): Good, not Excellent.
        Assert.Equal(0.582, result.Factors.Single(f => f.Name == "Usefulness").Score, 3);
        Assert.InRange(result.CompatibilityScore, 0.74, 0.76);
        Assert.Equal(SuggestionRating.Good, SuggestionThresholds.Rate(result.CompatibilityScore));
        Assert.Contains(result.Recommendations, r => r.Contains("Start-ModelDownload -Id tinyllama-1.1b-chat-q4"));
    }

    [Fact]
    public void Missing_required_capability_is_not_compatible()
    {
        var registry = new ProviderRegistry(new InMemoryProviderDefinitionStore());
        registry.Register(new System.Collections.Hashtable
        {
            ["Name"] = "chat-only",
            ["SupportedFormats"] = "gguf",
            ["RequiredCapabilities"] = new[] { "text-generation" },
            ["OptionalCapabilities"] = new[] { "chat" },
        });
        var model = Gguf("embedder", memory: "1GB", size: 100 * MiB, capabilities: new[] { "embeddings" });
        var result = Service(Machine(16 * GiB, 8 * GiB), registry).CheckCompatibility(model, "chat-only", new[] { model });

        Assert.False(result.Compatible);
        Assert.True(result.CompatibilityScore < SuggestionThresholds.Acceptable);
        Assert.Equal(new[] { "text-generation" }, result.Requirements.MissingCapabilities);
        Assert.Contains(result.Reasons, r => r.Contains("lacks text-generation"));
        // The built-in gguf providers accept embedding models, so they are suggested.
        Assert.Contains(result.Recommendations, r => r.Contains("'llama-cpp'") && r.Contains("'ollama'"));
    }

    [Fact]
    public void Embedding_models_meet_the_builtin_alternatives()
    {
        var model = Gguf("nomic-embed-text-v1.5-f16", parameters: "137M", quantization: "F16", size: 274290560, capabilities: new[] { "embeddings" });
        var result = Service(Machine(16 * GiB, 8 * GiB)).CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.True(result.Compatible);
        Assert.Equal(1.0, result.Factors.Single(f => f.Name == "RequiredCapabilities").Score);
    }

    [Fact]
    public void Wrong_format_is_never_compatible()
    {
        var models = TinyLlamaFamily();
        var model = models.Single(m => m.Id == "tinyllama-1.1b-chat-safetensors");
        // Everything else fits; still not compatible, and scored below every bucket.
        var result = Service(Machine(64 * GiB, 32 * GiB)).CheckCompatibility(model, "llama-cpp", models);

        Assert.False(result.Compatible);
        Assert.True(result.CompatibilityScore < SuggestionThresholds.Acceptable);
        Assert.Contains(result.Reasons, r => r.Contains("cannot load safetensors"));
        Assert.Contains(result.Recommendations, r => r.Contains("'tinyllama-1.1b-chat-q8'") && r.Contains("gguf"));
        Assert.Contains(result.Recommendations, r => r.Contains("'transformers'") && r.Contains("'vllm'"));
    }

    [Fact]
    public void Unknown_format_is_not_compatible()
    {
        var model = Gguf("mystery");
        model.Format = null;
        var result = Service(Machine(16 * GiB, 8 * GiB)).CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.False(result.Compatible);
        Assert.Contains(result.Reasons, r => r.Contains("format is unknown"));
    }

    [Theory]
    [InlineData(2L * 1024 * 1024 * 1024, false, "larger than")]
    [InlineData(50L * 1024 * 1024, false, "smaller than")]
    [InlineData(500L * 1024 * 1024, true, "within")]
    public void Size_limits(long size, bool compatible, string reason)
    {
        var registry = new ProviderRegistry(new InMemoryProviderDefinitionStore());
        registry.RegisterJson("""{"name": "mid-size", "supported_formats": ["gguf"], "model_size_limits": {"min_size": "100MB", "max_size": "1GB"}}""");
        var model = Gguf("m", memory: "1GB", size: size, capabilities: new[] { "text-generation" });
        var result = Service(Machine(16 * GiB, 8 * GiB), registry).CheckCompatibility(model, "mid-size", new[] { model });

        Assert.Equal(compatible, result.Compatible);
        Assert.Contains(result.Reasons, r => r.Contains(reason));
        // Outside the limits the size factor is the one that blocks, and the score drops below every bucket.
        Assert.Equal(compatible ? 0 : 1, result.Factors.Count(f => f.Blocking));
        Assert.Equal(!compatible, result.Factors.Single(f => f.Name == "SizeLimits").Blocking);
        Assert.Equal(compatible, result.CompatibilityScore >= SuggestionThresholds.Acceptable);
        if (!compatible)
        {
            Assert.Contains(result.Recommendations, r => r.Contains("'llama-cpp'"));
        }
    }

    [Fact]
    public void Provider_minimum_memory_blocks()
    {
        var model = Safetensors("qwen2.5-0.5b-instruct-safetensors", parameters: "0.5B", size: 988097824);
        var result = Service(Machine(4 * GiB, 3 * GiB)).CheckCompatibility(model, "vllm", new[] { model });
        Assert.False(result.Compatible);
        Assert.Contains(result.Reasons, r => r.Contains("vllm needs at least 8.0 GB"));
    }

    [Fact]
    public void Model_without_capabilities_is_half_scored_not_blocked()
    {
        var model = Gguf("bare", memory: "1GB", capabilities: Array.Empty<string>());
        var result = Service(Machine(16 * GiB, 8 * GiB)).CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.True(result.Compatible);
        Assert.Equal(0.5, result.Factors.Single(f => f.Name == "RequiredCapabilities").Score);
    }

    [Fact]
    public void Disk_too_small_costs_the_disk_factor_and_says_so()
    {
        var model = Gguf("big-download", memory: "1GB", size: 10 * GiB);
        var result = Service(Machine(16 * GiB, 8 * GiB, disk: 5 * GiB)).CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.True(result.Compatible);
        Assert.Equal(0, result.Factors.Single(f => f.Name == "Disk").Score);
        Assert.Contains(result.Recommendations, r => r.StartsWith("Free at least"));
    }

    [Fact]
    public void Local_model_needs_no_disk()
    {
        var model = Gguf("here", memory: "1GB", size: 10 * GiB, status: ModelStatus.Local);
        var result = Service(Machine(16 * GiB, 8 * GiB, disk: 0)).CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.Equal(0, result.Requirements.DiskBytes);
        Assert.Equal(1, result.Factors.Single(f => f.Name == "Disk").Score);
        Assert.Contains(result.Recommendations, r => r.Contains("ready to use"));
    }

    [Fact]
    public void Weights_add_up_to_one()
    {
        var sum = CompatibilityScorer.FormatWeight + CompatibilityScorer.RequiredCapabilitiesWeight + CompatibilityScorer.OptionalCapabilitiesWeight
            + CompatibilityScorer.SizeLimitsWeight + CompatibilityScorer.MemoryWeight + CompatibilityScorer.DiskWeight
            + CompatibilityScorer.SpeedWeight + CompatibilityScorer.QualityWeight + CompatibilityScorer.UsefulnessWeight;
        Assert.Equal(1.0, sum, 10);
    }

    [Fact]
    public void Unknown_model_id_and_provider_throw_the_contract_errors()
    {
        var service = Service(Machine(16 * GiB, 8 * GiB));
        var missingModel = Assert.Throws<ModelLibraryException>(() => service.CheckCompatibility("nope", "llama-cpp", TinyLlamaFamily()));
        Assert.Equal(ErrorIds.ModelNotFound, missingModel.ErrorId);
        var missingProvider = Assert.Throws<ModelLibraryException>(() => service.CheckCompatibility("tinyllama-1.1b-chat-q4", "nope", TinyLlamaFamily()));
        Assert.Equal(ErrorIds.ProviderNotFound, missingProvider.ErrorId);
    }
}
