using System.Globalization;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Generation speed: producing one token reads every active weight once (and the context cache, half full on
/// average), so tokens per second ≤ memory bandwidth / bytes read per token. The bandwidth is the RAM's, measured
/// by <see cref="MemoryBandwidthTest"/>, or the GPU's when the model fits there; split in proportion when it is
/// partly offloaded. A measurement stored by Measure-LibraryModel on the same machine wins over the estimate.
/// </summary>
public static class SpeedEstimator
{
    /// <summary>GPU memory bandwidth assumed when the probe cannot read it: the low end of discrete GPUs.</summary>
    public const double AssumedGpuBandwidth = 200e9;

    /// <summary>Share of GPU memory usable for a model (the driver and display keep some).</summary>
    public const double UsableGpuShare = 0.95;

    /// <summary>Keys under which a measurement is stored in the model's performance metrics (registry).</summary>
    public const string MeasuredTokensPerSecondKey = "measured_tokens_per_second";
    public const string MeasuredOnKey = "measured_on";

    public static SpeedEstimate Estimate(ModelInfo model, MemoryEstimate memory, MachineSnapshot machine)
    {
        if (Measured(model, machine) is { } measured)
        {
            return new SpeedEstimate
            {
                TokensPerSecond = measured,
                Measured = true,
                Placement = ModelPlacement.Cpu,
                BytesPerToken = BytesPerToken(memory),
                Explanation = string.Create(CultureInfo.InvariantCulture, $"measured {measured:0.#} tokens/s on this machine (Measure-LibraryModel)"),
            };
        }

        if (BytesPerToken(memory) is not { } bytes || memory.Total is not { } need)
        {
            return new SpeedEstimate { Explanation = "the bytes read per token are unknown, so the speed could not be estimated" };
        }

        var gpus = machine.Gpus.Where(g => !g.UnifiedMemory).ToArray();
        var vram = gpus.Sum(g => (double)(g.MemoryFree ?? g.MemoryTotal)) * UsableGpuShare;
        var gpuBandwidth = gpus.Length == 0 ? 0 : gpus.Min(g => g.MemoryBandwidth ?? AssumedGpuBandwidth);
        var gpuAssumed = gpus.Any(g => g.MemoryBandwidth is null);
        var cpuBandwidth = machine.MemoryBandwidth;

        if (gpus.Length > 0 && need <= vram)
        {
            var tps = gpuBandwidth / bytes;
            return new SpeedEstimate
            {
                TokensPerSecond = tps,
                Placement = ModelPlacement.Gpu,
                BytesPerToken = bytes,
                Bandwidth = gpuBandwidth,
                Explanation = string.Create(CultureInfo.InvariantCulture,
                    $"about {tps:0.#} tokens/s fully on the GPU: {Rate(gpuBandwidth)}{(gpuAssumed ? " (assumed: the GPU does not report it)" : "")} / {ByteSize.Format(bytes)} read per token"),
            };
        }

        if (cpuBandwidth is not { } ram)
        {
            return new SpeedEstimate
            {
                Placement = gpus.Length > 0 ? ModelPlacement.Partial : ModelPlacement.Cpu,
                BytesPerToken = bytes,
                Explanation = "the memory bandwidth was not measured, so the speed could not be estimated",
            };
        }

        if (gpus.Length > 0 && vram > 0)
        {
            // Layers that fit on the GPU run at its speed; the rest at the RAM's.
            var onGpu = Math.Clamp((vram - (need - (memory.Weights ?? need))) / (memory.Weights ?? need), 0, 1);
            var seconds = bytes * onGpu / gpuBandwidth + bytes * (1 - onGpu) / ram;
            var tps = 1 / seconds;
            return new SpeedEstimate
            {
                TokensPerSecond = tps,
                Placement = ModelPlacement.Partial,
                BytesPerToken = bytes,
                Bandwidth = bytes / seconds,
                Explanation = string.Create(CultureInfo.InvariantCulture,
                    $"about {tps:0.#} tokens/s with {onGpu:P0} of the weights on the GPU ({Rate(gpuBandwidth)}) and the rest in RAM ({Rate(ram)} measured), {ByteSize.Format(bytes)} read per token"),
            };
        }

        var cpu = ram / bytes;
        return new SpeedEstimate
        {
            TokensPerSecond = cpu,
            Placement = ModelPlacement.Cpu,
            BytesPerToken = bytes,
            Bandwidth = ram,
            Explanation = string.Create(CultureInfo.InvariantCulture,
                $"about {cpu:0.#} tokens/s on the CPU: {Rate(ram)} measured RAM bandwidth / {ByteSize.Format(bytes)} read per token"),
        };
    }

    /// <summary>Active weights plus half the context cache (it fills as the answer grows).</summary>
    public static long? BytesPerToken(MemoryEstimate memory) =>
        (memory.ActiveWeights ?? memory.Weights) is { } weights ? weights + (memory.ContextCache ?? 0) / 2 : null;

    static double? Measured(ModelInfo model, MachineSnapshot machine)
    {
        var metrics = model.Metadata?.PerformanceMetrics;
        if (metrics is null || machine.Fingerprint is not { } here || machine.MemoryOverridden
            || !metrics.TryGetValue(MeasuredOnKey, out var on) || !string.Equals(on?.ToString(), here, StringComparison.Ordinal)
            || !metrics.TryGetValue(MeasuredTokensPerSecondKey, out var value))
        {
            return null;
        }

        return value switch
        {
            double d when d > 0 => d,
            long l when l > 0 => l,
            int i when i > 0 => i,
            decimal m when m > 0 => (double)m,
            System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Number } e when e.GetDouble() > 0 => e.GetDouble(),
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && parsed > 0 => parsed,
            _ => null,
        };
    }

    static string Rate(double bytesPerSecond) => ByteSize.Format((long)bytesPerSecond) + "/s";
}

/// <summary>Quality from size (parameters) and quantization: bigger models know more, lower bits lose some of it.</summary>
public static class QualityEstimator
{
    const double SmallestParameters = 1e8;
    const double LargestParameters = 7e10;

    // Bits per weight → share of quality kept; interpolated. From published perplexity increases of llama.cpp
    // quantizations: Q8_0 and Q6_K are within noise, Q4_K_M loses a little, Q3 noticeably, Q2 and IQ1 a lot.
    static readonly (double Bits, double Kept)[] QuantizationCurve = { (1.5, 0.25), (2, 0.4), (3, 0.65), (4, 0.85), (5, 0.94), (6, 0.98), (8, 1.0) };

    public static QualityEstimate Estimate(MemoryEstimate memory)
    {
        // A MoE model: between its active and its total size (geometric mean, a common rule of thumb). Without a
        // parameter count, the weights tell it: bytes × 8 / bits per weight (Q4_K_M's when the quantization is unknown).
        var fromWeights = memory.ParameterCount is null && memory.Weights is { } w && memory.Method != MemoryEstimateMethod.Metadata;
        double? parameters = memory.ParameterCount is { } all && memory.ActiveParameterCount is { } active && active < all
            ? Math.Sqrt((double)all * active)
            : memory.ParameterCount is { } known ? known
            : fromWeights ? memory.Weights!.Value * 8.0 / (memory.BitsPerWeight ?? Quantization.BitsPerWeight("Q4_K_M")!.Value)
            : null;
        var size = parameters is { } p && p > 0
            ? Math.Clamp(Math.Log(p / SmallestParameters) / Math.Log(LargestParameters / SmallestParameters), 0, 1)
            : 0.5;
        var kept = memory.BitsPerWeight is { } bits ? Kept(bits) : 0.9;
        var sizeText = parameters is { } n
            ? string.Create(CultureInfo.InvariantCulture, $"{(fromWeights ? "about " : "")}{(n >= 1e9 ? $"{n / 1e9:0.##}B" : $"{n / 1e6:0.##}M")} parameters{(fromWeights ? " (from the weights' size)" : "")}")
            : "unknown size";
        var quantText = memory.BitsPerWeight is { } b
            ? string.Create(CultureInfo.InvariantCulture, $"{memory.Quantization ?? "unquantized"} ({b:0.##} bits) keeps about {kept:P0} of it")
            : "quantization unknown";
        return new QualityEstimate
        {
            Score = Math.Round(size * kept, 3),
            SizeScore = Math.Round(size, 3),
            QuantizationScore = kept,
            Explanation = $"{sizeText}; {quantText}",
        };
    }

    static double Kept(double bits)
    {
        if (bits <= QuantizationCurve[0].Bits)
        {
            return QuantizationCurve[0].Kept;
        }

        for (var i = 1; i < QuantizationCurve.Length; i++)
        {
            if (bits <= QuantizationCurve[i].Bits)
            {
                var (b0, k0) = QuantizationCurve[i - 1];
                var (b1, k1) = QuantizationCurve[i];
                return Math.Round(k0 + (k1 - k0) * (bits - b0) / (b1 - b0), 3);
            }
        }

        return 1.0;
    }
}
