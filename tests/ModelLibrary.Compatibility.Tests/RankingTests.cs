using ModelLibrary.Formats;
using Xunit.Abstractions;
using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

/// <summary>
/// Recommendations that tell models apart: memory from the file (weights, KV cache from the header, MoE), the machine
/// as it is (RAM, GPUs, measured bandwidth), speed and quality in the score, and the best quantization of a family.
/// </summary>
public class RankingTests
{
    readonly ITestOutputHelper output;

    public RankingTests(ITestOutputHelper output) => this.output = output;

    const double GB = 1e9;

    /// <summary>A 7B llama-shaped model (32 layers, 32 heads, 8 KV heads, width 4096) at one quantization; its file is its weights.</summary>
    static ModelInfo Llama7B(string quantization)
    {
        var bits = Quantization.BitsPerWeight(quantization)!.Value;
        var model = Gguf($"llama-7b-{quantization.ToLowerInvariant()}", parameters: "7B", quantization: quantization,
            size: (long)(7e9 * bits / 8), contextLength: 8192, name: $"Llama 7B ({quantization})");
        model.Metadata.BlockCount = 32;
        model.Metadata.EmbeddingLength = 4096;
        model.Metadata.HeadCount = 32;
        model.Metadata.HeadCountKv = 8;
        return model;
    }

    static readonly string[] Ladder = { "Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0", "F16" };

    static List<ModelInfo> Catalog()
    {
        var models = Ladder.Select(Llama7B).ToList();
        models.Add(Gguf("llama-70b-q4_k_m", parameters: "70B", quantization: "Q4_K_M", size: (long)(70e9 * 4.85 / 8), name: "Llama 70B (Q4_K_M)"));
        models.Add(Gguf("tinyllama-1.1b-chat-q4_k_m", parameters: "1.1B", quantization: "Q4_K_M", size: 668788096, name: "TinyLlama 1.1B Chat (Q4_K_M)"));
        return models;
    }

    // A desktop with a 8 GiB GPU (RTX 4060 class: 272 GB/s) and 16 GiB of RAM read at 20 GB/s.
    static FixedMachineResources EightGigGpu() => Machine(16 * GiB, 12 * GiB, cores: 8, bandwidth: 20 * GB,
        gpus: new GpuDevice { Name = "8 GiB GPU", Vendor = "nvidia", MemoryTotal = 8 * GiB, MemoryFree = 8 * GiB, MemoryBandwidth = 272 * GB, Source = "given" });

    // A server with an 80 GiB GPU (H100 class: 2 TB/s) and 256 GiB of RAM.
    static FixedMachineResources EightyGigGpu() => Machine(256 * GiB, 240 * GiB, cores: 32, bandwidth: 200 * GB,
        gpus: new GpuDevice { Name = "80 GiB GPU", Vendor = "nvidia", MemoryTotal = 80 * GiB, MemoryFree = 80 * GiB, MemoryBandwidth = 2000 * GB, Source = "given" });

    void Show(ProviderSuggestions s, string title)
    {
        output.WriteLine($"{title}: {s.Recommendations}");
        foreach (var m in s.Models)
        {
            output.WriteLine($"  {m.CompatibilityScore:0.000} {m.Rating,-10} {m.ModelId,-28} {ByteSize.Format(m.MemoryBytes ?? 0),9} {m.TokensPerSecond,7} t/s {m.Placement}");
        }
    }

    [Fact]
    public void On_this_machine_a_model_larger_than_its_memory_is_not_compatible_and_says_by_how_much()
    {
        // The real machine: RAM from /proc/meminfo (or the GC), GPUs from nvidia-smi/rocm-smi/sysfs, bandwidth measured.
        var machine = SystemMachineResources.Instance;
        var capacity = machine.TotalMemory + machine.Gpus.Where(g => !g.UnifiedMemory).Sum(g => g.MemoryTotal);
        var model = Gguf("too-big-q4_k_m", parameters: null, size: capacity + GiB);
        var result = Service(machine).CheckCompatibility(model, "llama-cpp", new[] { model });
        foreach (var line in result.Reasons)
        {
            output.WriteLine(line);
        }

        Assert.False(result.Compatible);
        var shortfall = result.Requirements.MemoryShortfallBytes!.Value;
        var memory = result.Factors.Single(f => f.Name == "Memory");
        Assert.True(memory.Blocking);
        // The need, the machine's memory and the shortfall, in numbers.
        Assert.Contains($"Needs about {ByteSize.Format(result.Requirements.MemoryBytes!.Value)}", memory.Reason);
        Assert.Contains(ByteSize.Format(machine.TotalMemory), memory.Reason);
        Assert.Contains($"{ByteSize.Format(shortfall)} short", memory.Reason);
        Assert.True(shortfall > GiB, "the file alone is 1 GiB over; the cache and runtime come on top");
        Assert.True(result.CompatibilityScore < SuggestionThresholds.Acceptable);
        Assert.Null(Service(machine).GetSuggestions("llama-cpp", new[] { model }).Models.FirstOrDefault());
    }

    [Fact]
    public void A_quantization_ladder_lands_in_different_buckets_and_the_best_that_fits_is_named()
    {
        // A 16 GiB laptop without a GPU, RAM read at 20 GB/s: low bits are fast but lose quality, F16 barely fits and crawls.
        var service = Service(Machine(16 * GiB, 12 * GiB, cores: 4, bandwidth: 20 * GB));
        var ladder = Ladder.Select(Llama7B).ToList();
        var suggestions = service.GetSuggestions("llama-cpp", ladder);
        Show(suggestions, "16 GiB laptop");

        var rating = suggestions.Models.ToDictionary(m => m.ModelId, m => m.Rating);
        Assert.Equal(ladder.Count, suggestions.TotalCompatibleModels);
        Assert.True(rating.Values.Distinct().Count() >= 2, "the ladder must not all share one bucket");
        Assert.Equal(SuggestionRating.Good, rating["llama-7b-q4_k_m"]);
        Assert.Equal(SuggestionRating.Acceptable, rating["llama-7b-f16"]);
        var score = suggestions.Models.ToDictionary(m => m.ModelId, m => m.CompatibilityScore);
        Assert.True(score["llama-7b-q4_k_m"] > score["llama-7b-q2_k"], "Q2_K is faster but loses too much quality");
        Assert.True(score["llama-7b-q4_k_m"] > score["llama-7b-f16"], "F16 is the best quality but too slow here");

        // One family: the best of it is named, in the suggestions and by BestVariant over a plain list of ModelInfo.
        var best = Assert.Single(suggestions.BestOfFamily);
        Assert.Equal(suggestions.Models[0].CompatibilityScore, best.CompatibilityScore);
        Assert.Equal(best.ModelId, service.BestVariant("llama-cpp", ladder)!.ModelId);
        Assert.Contains(best.Quantization, new[] { "Q3_K_M", "Q4_K_M", "Q5_K_M" });

        // Asking about F16 names the better variant.
        var f16 = service.CheckCompatibility("llama-7b-f16", "llama-cpp", ladder);
        Assert.Contains(f16.Recommendations, r => r.StartsWith($"The best of this model's variants here is '{best.ModelId}'"));
    }

    [Fact]
    public void The_best_quantization_of_a_hub_repository_is_named_from_a_plain_list_of_models()
    {
        // Hub references (hf.co/<owner>/<repo>:<quant>), one ModelInfo per GGUF file of the repository.
        var repository = Ladder.Select(q =>
        {
            var model = Llama7B(q);
            model.Id = $"hf.co/someone/Llama-7B-GGUF:{q}";
            model.Name = $"Llama-7B-GGUF:{q}";
            return model;
        }).ToList();
        Assert.Single(repository.Select(m => ModelFamily.IdKey(m.Id)).Distinct());

        var small = Service(Machine(6 * GiB, 6 * GiB, bandwidth: 20 * GB)).BestVariant("llama-cpp", repository)!;
        var large = Service(EightyGigGpu()).BestVariant("llama-cpp", repository)!;
        output.WriteLine($"6 GiB: {small.ModelId}; 80 GiB GPU: {large.ModelId}");
        Assert.True(small.Compatibility.Compatible);
        Assert.True(small.MemoryBytes <= 6 * GiB);
        Assert.True(large.Compatibility.Requirements.MemoryEstimate.BitsPerWeight > small.Compatibility.Requirements.MemoryEstimate.BitsPerWeight);
        Assert.Null(Service(Machine(2 * GiB, 2 * GiB)).BestVariant("llama-cpp", repository));
        Assert.Single(Service(EightyGigGpu()).GetSuggestions("llama-cpp", repository).BestOfFamily);
    }

    [Fact]
    public void The_same_catalog_on_an_8_GiB_and_an_80_GiB_GPU_machine_gives_different_suggestions()
    {
        var catalog = Catalog();
        var small = Service(EightGigGpu()).GetSuggestions("llama-cpp", catalog);
        var large = Service(EightyGigGpu()).GetSuggestions("llama-cpp", catalog);
        Show(small, "8 GiB GPU");
        Show(large, "80 GiB GPU");

        // The 70B model: over RAM + GPU memory on the small machine, fully on the GPU of the large one.
        Assert.DoesNotContain("llama-70b-q4_k_m", small.Models.Select(m => m.ModelId));
        Assert.Contains("llama-70b-q4_k_m", large.Recommendations.Excellent);
        var big = Service(EightGigGpu()).CheckCompatibility("llama-70b-q4_k_m", "llama-cpp", catalog);
        Assert.False(big.Compatible);
        Assert.Contains(big.Reasons, r => r.Contains("of GPU memory") && r.Contains("short"));

        // Where a 7B model runs: Q4 fully on the 8 GiB GPU, F16 only partly.
        var q4 = small.Models.Single(m => m.ModelId == "llama-7b-q4_k_m");
        var f16 = small.Models.Single(m => m.ModelId == "llama-7b-f16");
        Assert.Equal(ModelPlacement.Gpu, q4.Placement);
        Assert.Equal(ModelPlacement.Partial, f16.Placement);
        Assert.Contains(q4.Compatibility.Reasons, r => r.Contains("Full GPU offload is possible"));
        Assert.True(q4.TokensPerSecond > f16.TokensPerSecond * 3);
        Assert.Equal(ModelPlacement.Gpu, large.Models.Single(m => m.ModelId == "llama-7b-f16").Placement);

        // Different buckets, and a different best quantization of the 7B family: more bits where there is room.
        Assert.NotEqual(small.Recommendations.Excellent, large.Recommendations.Excellent);
        Assert.NotEqual(small.Recommendations.Good.Concat(small.Recommendations.Acceptable), large.Recommendations.Good.Concat(large.Recommendations.Acceptable));
        var smallBest = small.BestOfFamily.Single(b => b.ModelId.StartsWith("llama-7b", StringComparison.Ordinal));
        var largeBest = large.BestOfFamily.Single(b => b.ModelId.StartsWith("llama-7b", StringComparison.Ordinal));
        Assert.True(largeBest.Compatibility.Requirements.MemoryEstimate.BitsPerWeight > smallBest.Compatibility.Requirements.MemoryEstimate.BitsPerWeight,
            $"best on 80 GiB {largeBest.ModelId}, on 8 GiB {smallBest.ModelId}");
        Assert.Equal(3, large.BestOfFamily.Length);
        Assert.Equal(2, small.BestOfFamily.Length);
        // A 7B model fully on the 8 GiB GPU is Excellent there; F16, mostly on the CPU, is not. A tiny model is fast
        // everywhere, but its quality keeps it out of Excellent.
        Assert.Contains("llama-7b-q4_k_m", small.Recommendations.Excellent);
        Assert.DoesNotContain("llama-7b-f16", small.Recommendations.Excellent);
        Assert.Contains("llama-7b-f16", large.Recommendations.Excellent);
        Assert.DoesNotContain("tinyllama-1.1b-chat-q4_k_m", large.Recommendations.Excellent);
        Assert.Single(large.Machine.Gpus);
    }

    [Fact]
    public void Context_length_sizes_the_cache_from_the_header_and_can_push_a_model_out()
    {
        // 32 layers × 8 KV heads × (128 + 128) × 2 bytes = 131072 bytes (128 KiB) per token.
        var model = Llama7B("Q4_K_M");
        var service = Service(Machine(8 * GiB, 8 * GiB, bandwidth: 20 * GB));
        var normal = service.CheckCompatibility(model, "llama-cpp", new[] { model });
        var longContext = service.CheckCompatibility(model, "llama-cpp", new[] { model }, contextLength: 32768);

        Assert.Equal(131072, normal.Requirements.MemoryEstimate.ContextCachePerToken);
        Assert.True(normal.Requirements.MemoryEstimate.CacheFromShape);
        Assert.Equal(4096, normal.Requirements.ContextLength);
        Assert.Equal(512 * MiB, normal.Requirements.MemoryEstimate.ContextCache);
        Assert.Equal(32768, longContext.Requirements.ContextLength);
        Assert.Equal(4 * GiB, longContext.Requirements.MemoryEstimate.ContextCache);
        Assert.True(normal.Compatible);
        Assert.False(longContext.Compatible);
        Assert.Contains(longContext.Reasons, r => r.Contains("32768 tokens"));

        var suggestions = service.GetSuggestions("llama-cpp", new[] { model }, new SuggestionOptions { ContextLength = 32768 });
        Assert.Equal(0, suggestions.TotalCompatibleModels);
        Assert.Equal(32768, suggestions.ContextLength);
    }

    [Fact]
    public void A_mixture_of_experts_needs_all_weights_in_memory_but_reads_only_the_used_experts()
    {
        // Mixtral-like: 26 GB of tensors, 24 GB of them in 8 experts, 2 used per token.
        var moe = Gguf("mixtral-8x7b-q4_k_m", parameters: "8x7B", quantization: "Q4_K_M", size: (long)(26 * GB));
        moe.Metadata.WeightBytes = (long)(26 * GB);
        moe.Metadata.ExpertWeightBytes = (long)(24 * GB);
        moe.Metadata.ExpertCount = 8;
        moe.Metadata.ExpertUsedCount = 2;
        var dense = Gguf("dense-47b-q4_k_m", parameters: "47B", quantization: "Q4_K_M", size: (long)(26 * GB));

        var estimate = MemoryEstimator.Estimate(moe, BuiltInProviders.LlamaCppProvider);
        Assert.Equal(MemoryEstimateMethod.TensorData, estimate.Method);
        Assert.Equal((long)(26 * GB), estimate.Weights);
        Assert.Equal((long)(8 * GB), estimate.ActiveWeights);
        Assert.Contains("2 of 8 experts per token", estimate.Explanation);

        var service = Service(Machine(64 * GiB, 60 * GiB, bandwidth: 40 * GB));
        var moeResult = service.CheckCompatibility(moe, "llama-cpp", new[] { moe, dense });
        var denseResult = service.CheckCompatibility(dense, "llama-cpp", new[] { moe, dense });
        Assert.Equal(moeResult.Requirements.MemoryEstimate.Weights, denseResult.Requirements.MemoryEstimate.Weights);
        Assert.True(moeResult.Requirements.TokensPerSecond > denseResult.Requirements.TokensPerSecond * 2.5);
    }

    [Fact]
    public void A_real_gguf_header_gives_the_tensor_data_and_the_cache_shape()
    {
        // stories260K.gguf (see tests/fixtures/MANIFEST.md): tensor data from byte 14176 to the end, 1185376.
        var header = ModelFileInspector.Inspect(RepositoryFiles.Fixture("gguf", "stories260K.gguf"));
        var model = new ModelInfo { Id = "stories260k", Name = "stories260K", Provider = "llama-cpp", Format = "gguf", Size = header.FileSize, Metadata = ModelFileInspector.ToMetadata(header) };
        var estimate = MemoryEstimator.Estimate(model, BuiltInProviders.LlamaCppProvider, contextLength: 512);

        Assert.Equal(MemoryEstimateMethod.TensorData, estimate.Method);
        Assert.Equal(1185376 - 14176, estimate.Weights);
        Assert.True(estimate.CacheFromShape);
        // From the header: block_count × head_count_kv × (key + value head size) × 2 bytes.
        var m = model.Metadata;
        var expectedPerToken = 2 * m.BlockCount!.Value * m.HeadCountKv!.Value * 2 * (m.EmbeddingLength!.Value / m.HeadCount!.Value);
        Assert.Equal(expectedPerToken, estimate.ContextCachePerToken);
        Assert.Equal(expectedPerToken * 512, estimate.ContextCache);
    }

    [Fact]
    public void Config_json_beside_safetensors_gives_the_cache_shape_and_type()
    {
        using var folder = new TempFolder();
        File.Copy(RepositoryFiles.Fixture("safetensors", "model.safetensors"), folder.File("model.safetensors"));
        File.WriteAllText(folder.File("config.json"), """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": 4, "num_attention_heads": 8,
             "num_key_value_heads": 2, "hidden_size": 256, "head_dim": 32, "max_position_embeddings": 2048, "torch_dtype": "float32"}
            """);
        var header = ModelFileInspector.Inspect(folder.File("model.safetensors"));
        Assert.Equal(4, header.BlockCount);
        Assert.Equal(2, header.HeadCountKv);
        Assert.Equal(32, header.KeyLength);
        Assert.Equal("F32", header.CacheType);

        var model = new ModelInfo { Id = "tiny-st", Name = "tiny", Provider = "transformers", Format = "safetensors", Metadata = ModelFileInspector.ToMetadata(header) };
        var estimate = MemoryEstimator.Estimate(model, BuiltInProviders.TransformersProvider, contextLength: 100);
        // 4 layers × 2 KV heads × (32 + 32) × 4 bytes (float32) = 2048 bytes per token.
        Assert.Equal(2048, estimate.ContextCachePerToken);
        Assert.Equal("F32", estimate.CacheType);
        Assert.Equal(204800, estimate.ContextCache);
    }

    [Fact]
    public void A_measured_speed_on_this_machine_replaces_the_estimate()
    {
        var machine = Machine(16 * GiB, 12 * GiB, bandwidth: 20 * GB);
        var model = Llama7B("Q4_K_M");
        model.Metadata.PerformanceMetrics[SpeedEstimator.MeasuredTokensPerSecondKey] = 42.0;
        model.Metadata.PerformanceMetrics[SpeedEstimator.MeasuredOnKey] = "here";

        var elsewhere = Service(machine).CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.False(elsewhere.Requirements.Speed.Measured);

        var here = Service(new FixedMachineResources(16 * GiB, 12 * GiB, 8, 100 * GiB) { MemoryBandwidth = 20 * GB, Fingerprint = "here" })
            .CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.True(here.Requirements.Speed.Measured);
        Assert.Equal(42.0, here.Requirements.TokensPerSecond);
        Assert.True(here.CompatibilityScore > elsewhere.CompatibilityScore);
        Assert.Contains(here.Reasons, r => r.Contains("measured 42 tokens/s"));
    }

    [Fact]
    public void The_machine_probe_measures_bandwidth_once_and_reads_gpus_safely()
    {
        var first = SystemMachineResources.Instance.MemoryBandwidth;
        Assert.NotNull(first);
        Assert.True(first > 100e6, $"{first} bytes/s is not a RAM bandwidth");
        Assert.Equal(first, SystemMachineResources.Instance.MemoryBandwidth);
        Assert.NotNull(SystemMachineResources.Instance.Gpus);
        Assert.Contains("cores", SystemMachineResources.Instance.Fingerprint);
    }

    [Fact]
    public void Gpu_probe_outputs_are_read()
    {
        // nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits: MiB, one line per GPU.
        var nvidia = GpuProbe.ParseNvidiaSmi("NVIDIA GeForce RTX 4090, 24564, 23010\nNVIDIA A100-SXM4-80GB, 81920, 81000\n");
        Assert.Equal(2, nvidia.Count);
        Assert.Equal("NVIDIA GeForce RTX 4090", nvidia[0].Name);
        Assert.Equal(24564L * MiB, nvidia[0].MemoryTotal);
        Assert.Equal(23010L * MiB, nvidia[0].MemoryFree);

        // rocm-smi --showproductname --showmeminfo vram --json: per card, bytes as strings.
        var rocm = GpuProbe.ParseRocmSmi("""{"card0": {"Card series": "AMD Instinct MI210", "VRAM Total Memory (B)": "68702699520", "VRAM Total Used Memory (B)": "10993664"}}""");
        var mi = Assert.Single(rocm);
        Assert.Equal(68702699520, mi.MemoryTotal);
        Assert.Equal(68702699520 - 10993664, mi.MemoryFree);
        Assert.Empty(GpuProbe.ParseRocmSmi("not json"));

        // The amdgpu driver's sysfs files, without rocm-smi.
        using var drm = new TempFolder();
        var device = Path.Combine(drm.Path, "card1", "device");
        Directory.CreateDirectory(device);
        Directory.CreateDirectory(Path.Combine(drm.Path, "card1-DP-1"));
        File.WriteAllText(Path.Combine(device, "mem_info_vram_total"), "17163091968\n");
        File.WriteAllText(Path.Combine(device, "mem_info_vram_used"), "1073741824\n");
        var sysfs = Assert.Single(GpuProbe.ReadAmdSysfs(drm.Path));
        Assert.Equal(17163091968, sysfs.MemoryTotal);
        Assert.Equal(17163091968 - GiB, sysfs.MemoryFree);
        Assert.Equal("sysfs", sysfs.Source);
        Assert.Empty(GpuProbe.ReadAmdSysfs(Path.Combine(drm.Path, "missing")));
    }

    [Fact]
    public void Integration_status_shows_the_machine()
    {
        var status = Service(EightGigGpu()).GetIntegrationStatusAsync(Catalog()).GetAwaiter().GetResult();
        Assert.Equal(16 * GiB, status.Machine.TotalMemory);
        Assert.Equal(20 * GB, status.Machine.MemoryBandwidth);
        Assert.Equal("8 GiB GPU", Assert.Single(status.Machine.Gpus).Name);
    }
}
