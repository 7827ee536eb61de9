using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

public class MemoryEstimateTests
{
    [Fact]
    public void Parameters_times_bits_plus_context_cache_plus_runtime()
    {
        // TinyLlama 1.1B Q4_K_M, 2048 tokens, on llama-cpp:
        //   weights = 1.1e9 × 4.85 / 8                    = 666 875 000
        //   d = ∛(32 × 1.1e9 / 3) ≈ 2272.5; d²/128 ≈ 40 340.16 bytes per token
        //   cache   = 2048 × 40 340.16                     ≈  82 616 651
        //   runtime = 256 MiB                              = 268 435 456
        //   total                                          ≈ 1 017 927 107 (≈ 0.95 GB; the catalog says "~1GB")
        var estimate = MemoryEstimator.Estimate(Gguf("tinyllama-1.1b-chat-q4"), BuiltInProviders.LlamaCppProvider);

        Assert.Equal(MemoryEstimateMethod.Parameters, estimate.Method);
        Assert.Equal(666_875_000, estimate.Weights);
        Assert.InRange(estimate.ContextCache!.Value, 82_616_649, 82_616_653);
        Assert.Equal(268_435_456, estimate.RuntimeOverhead);
        Assert.InRange(estimate.Total!.Value, 1_017_927_105, 1_017_927_109);
        Assert.Equal(2048, estimate.ContextTokens);
        Assert.Contains("Q4_K_M", estimate.Explanation);
    }

    [Fact]
    public void Stated_memory_requirement_wins_over_a_guess_from_parameters()
    {
        var estimate = MemoryEstimator.Estimate(Gguf("m", memory: "~1GB"), BuiltInProviders.LlamaCppProvider);
        Assert.Equal(MemoryEstimateMethod.Metadata, estimate.Method);
        Assert.Equal(GiB, estimate.Total);
    }

    [Fact]
    public void Context_is_capped_at_the_default_window()
    {
        var estimate = MemoryEstimator.Estimate(Gguf("m", contextLength: 131072), BuiltInProviders.LlamaCppProvider);
        Assert.Equal(MemoryEstimator.DefaultContextWindow, estimate.ContextTokens);
    }

    [Fact]
    public void Header_values_give_the_exact_cache()
    {
        // TinyLlama's header: 22 layers, width 2048, 32 heads, 4 KV heads.
        // 2 × 2 bytes × 22 × 2048 × 4/32 = 22 528 bytes per token; × 2048 tokens = 46 137 344.
        var model = Gguf("m");
        model.Metadata.BlockCount = 22;
        model.Metadata.EmbeddingLength = 2048;
        model.Metadata.HeadCount = 32;
        model.Metadata.HeadCountKv = 4;
        var estimate = MemoryEstimator.Estimate(model, BuiltInProviders.LlamaCppProvider);
        Assert.Equal(46_137_344, estimate.ContextCache);
    }

    [Fact]
    public void Exact_parameter_count_beats_the_label()
    {
        var model = Gguf("m", parameters: "1B", quantization: "F16");
        model.Metadata.ParameterCount = 2_000_000_000;
        Assert.Equal(4_000_000_000, MemoryEstimator.Estimate(model, BuiltInProviders.LlamaCppProvider).Weights);
    }

    [Fact]
    public void Unquantized_safetensors_count_16_bits()
    {
        var estimate = MemoryEstimator.Estimate(Safetensors("s", parameters: "137M"), BuiltInProviders.TransformersProvider);
        Assert.Equal(274_000_000, estimate.Weights);
        Assert.Equal(16, estimate.BitsPerWeight);
    }

    [Fact]
    public void Quantization_is_read_from_the_file_name_when_not_stated()
    {
        var model = Gguf("x", quantization: null);
        model.FileName = "tinyllama-1.1b-chat-v1.0.Q5_K_M.gguf";
        var estimate = MemoryEstimator.Estimate(model, BuiltInProviders.LlamaCppProvider);
        Assert.Equal("Q5_K_M", estimate.Quantization);
        Assert.Equal(5.69, estimate.BitsPerWeight);
    }

    [Fact]
    public void The_file_size_is_the_weights_when_the_file_was_not_read()
    {
        // A GGUF file is its tensors and a small header: 1 MB of file, 1 MB of weights, plus cache and runtime.
        var model = Gguf("phi-3-mini-4k-instruct-q4", parameters: null, quantization: null, size: 1_000_000);
        var estimate = MemoryEstimator.Estimate(model, BuiltInProviders.LlamaCppProvider);
        Assert.Equal(MemoryEstimateMethod.FileSize, estimate.Method);
        Assert.Equal(1_000_000, estimate.Weights);
        Assert.Equal(1_000_000 + estimate.ContextCache + estimate.RuntimeOverhead, estimate.Total);
    }

    [Fact]
    public void Nothing_known_is_unknown()
    {
        var estimate = MemoryEstimator.Estimate(Gguf("x", parameters: null, quantization: null), BuiltInProviders.LlamaCppProvider);
        Assert.Equal(MemoryEstimateMethod.Unknown, estimate.Method);
        Assert.Null(estimate.Total);
    }

    [Theory]
    [InlineData("1.1B", 1_100_000_000L)]
    [InlineData("137M", 137_000_000L)]
    [InlineData("0.5B", 500_000_000L)]
    [InlineData("8x7B", 56_000_000_000L)]
    [InlineData("22M", 22_000_000L)]
    [InlineData("huge", null)]
    public void Parameter_labels(string label, long? expected) => Assert.Equal(expected, ParameterCount.TryParse(label));

    [Theory]
    [InlineData("~1GB", 1073741824L)]
    [InlineData("1.5 GB", 1610612736L)]
    [InlineData("800MB", 838860800L)]
    [InlineData("8GiB", 8589934592L)]
    [InlineData("1024", 1024L)]
    [InlineData("lots", null)]
    public void Byte_sizes(string text, long? expected) => Assert.Equal(expected, ByteSize.TryParse(text));

    [Theory]
    [InlineData("F32", 32)]
    [InlineData("bf16", 16)]
    [InlineData("Q8_0", 8.5)]
    [InlineData("Q6_K", 6.56)]
    [InlineData("Q4_K_M", 4.85)]
    [InlineData("IQ4_XS", 4.25)]
    [InlineData("Q2_K", 3.35)]
    public void Bits_per_weight(string quantization, double bits) => Assert.Equal(bits, Quantization.BitsPerWeight(quantization));

    [Theory]
    [InlineData("tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", "Q4_K_M")]
    [InlineData("llama-3.2-1b-instruct-q8_0.gguf", "Q8_0")]
    [InlineData("nomic-embed-text-v1.5.f16.gguf", "F16")]
    [InlineData("Phi-3-mini-4k-instruct-q4.gguf", "Q4_K_M")]
    [InlineData("tinyllama-1.1b-chat-q8", "Q8_0")]
    [InlineData("model.gguf", null)]
    public void Quantization_in_file_names(string file, string? expected) => Assert.Equal(expected, Quantization.FindIn(file));
}
