using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

public class RecommendationTests
{
    [Fact]
    public void Picks_the_largest_smaller_quantization_that_fits_comfortably()
    {
        // 2 GiB in all, 1.3 GiB available; comfortable = 80% of available ≈ 1.04 GiB. Needs on llama-cpp:
        // Q8_0 1.42 GiB (fits total only), Q5_K_M 1.06 GiB (just over comfortable), Q4_K_M 0.95 GiB, Q3_K_M 0.83, Q2_K 0.76.
        // The best that fits comfortably is Q4_K_M.
        var models = TinyLlamaFamily();
        var service = Service(Machine(2 * GiB, (long)(1.3 * GiB)));
        var result = service.CheckCompatibility("tinyllama-1.1b-chat-q8", "llama-cpp", models);

        Assert.True(result.Compatible);
        Assert.Equal(CompatibilityScorer.FitsTotalScore, result.Factors.Single(f => f.Name == "Memory").Score);
        var advice = Assert.Single(result.Recommendations, r => r.Contains("smaller quantization"));
        Assert.StartsWith("Use 'tinyllama-1.1b-chat-q4' (Q4_K_M", advice);
    }

    [Fact]
    public void Recommends_a_quantization_even_when_the_model_does_not_fit_at_all()
    {
        var models = TinyLlamaFamily();
        // 1.25 GiB in all (llama-cpp's minimum is 1 GiB): Q8_0 (1.42 GiB) is over; comfortable = 1.0 GiB → Q4_K_M (0.95).
        var result = Service(Machine((long)(1.25 * GiB), (long)(1.25 * GiB))).CheckCompatibility("tinyllama-1.1b-chat-q8", "llama-cpp", models);
        Assert.False(result.Compatible);
        Assert.Contains(result.Recommendations, r => r.StartsWith("Use 'tinyllama-1.1b-chat-q4'"));
        Assert.Contains(result.Recommendations, r => r.StartsWith("Choose a smaller model"));
    }

    [Fact]
    public void Other_families_are_not_offered_as_quantizations()
    {
        var models = TinyLlamaFamily();
        models.Add(Gguf("qwen2.5-0.5b-instruct-q4", parameters: "0.5B", architecture: "qwen2"));
        var result = Service(Machine(2 * GiB, (long)(1.3 * GiB))).CheckCompatibility("tinyllama-1.1b-chat-q8", "llama-cpp", models);
        Assert.DoesNotContain(result.Recommendations, r => r.Contains("qwen"));
    }

    [Theory]
    [InlineData("tinyllama-1.1b-chat-q4", "tinyllama-1.1b-chat")]
    [InlineData("llama-3.2-1b-instruct-q4_k_m-bartowski", "llama-3.2-1b-instruct")]
    [InlineData("phi-3-mini-4k-instruct-q4_0-gpt4all", "phi-3-mini-4k-instruct")]
    [InlineData("tinyllama-1.1b-chat-safetensors", "tinyllama-1.1b-chat")]
    [InlineData("nomic-embed-text-v1.5-f16-hf", "nomic-embed-text-v1.5")]
    [InlineData("qwen3-0.6b-q8", "qwen3-0.6b")]
    public void Family_keys(string id, string key) => Assert.Equal(key, ModelFamily.IdKey(id));

    [Fact]
    public void Same_family_needs_matching_parameters_and_architecture()
    {
        var a = Gguf("x-q4", parameters: "7B");
        var b = Gguf("x-q8", parameters: "8B");
        Assert.False(ModelFamily.SameFamily(a, b));
        Assert.True(ModelFamily.SameFamily(Gguf("a-q4", name: "TinyLlama 1.1B Chat v1.0 (Q4_K_M)"), Gguf("b-q8", name: "TinyLlama 1.1B Chat v1.0 (Q8_0)")));
    }
}
