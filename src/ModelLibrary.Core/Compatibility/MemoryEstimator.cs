using System.Globalization;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Estimates the memory a model needs on a provider. In order of trust:
/// <list type="number">
/// <item>the catalog's <c>MemoryRequirement</c> ("~1GB"), taken as the whole need;</item>
/// <item>weights + context cache + runtime overhead, where weights = parameters × bits per weight / 8 (quantization
/// table; unquantized safetensors/PyTorch count 16 bits) and the context cache is the f16 key/value cache for
/// min(context length, <see cref="DefaultContextWindow"/>) tokens (see <see cref="KvCacheBytesPerToken"/>);</item>
/// <item>the file size × <see cref="FileSizeFactor"/> (weights plus a margin for cache and runtime);</item>
/// <item>unknown.</item>
/// </list>
/// </summary>
public static class MemoryEstimator
{
    /// <summary>
    /// Tokens of context a runtime allocates by default. llama.cpp, Ollama and vLLM size the cache for a default
    /// window, not the model's full trained context (131072 tokens would need tens of GB for any model).
    /// </summary>
    public const int DefaultContextWindow = 4096;

    /// <summary>Context length assumed when the metadata does not say.</summary>
    public const int AssumedContextLength = 2048;

    /// <summary>Multiplier on the file size when nothing better is known.</summary>
    public const double FileSizeFactor = 1.2;

    public static MemoryEstimate Estimate(ModelInfo model, ProviderCapabilities provider)
    {
        var metadata = model.Metadata ?? new ModelMetadata();

        if (ByteSize.TryParse(metadata.MemoryRequirement) is { } stated && stated > 0)
        {
            return new MemoryEstimate
            {
                Total = stated,
                Method = MemoryEstimateMethod.Metadata,
                Explanation = $"the catalog states {metadata.MemoryRequirement!.Trim()}",
            };
        }

        var format = ModelFormats.Resolve(model);
        var parameters = metadata.ParameterCount is > 0 ? metadata.ParameterCount : ParameterCount.TryParse(metadata.Parameters);
        var quantization = ResolveQuantization(model, format);
        var bits = Quantization.BitsPerWeight(quantization)
            ?? (quantization is null && ModelFormats.IsUnquantizedFormat(format) ? Quantization.UnquantizedBitsPerWeight : (double?)null);

        if (parameters is { } p && bits is { } b)
        {
            var weights = (long)Math.Round(p * b / 8);
            var tokens = Math.Min(metadata.ContextLength is > 0 ? metadata.ContextLength.Value : AssumedContextLength, DefaultContextWindow);
            var cache = (long)Math.Round(tokens * KvCacheBytesPerToken(metadata, p));
            var total = weights + cache + provider.RuntimeOverhead;
            var inferred = string.IsNullOrWhiteSpace(metadata.Quantization) && quantization is not null;
            var quantText = quantization is null ? $"{b.ToString(CultureInfo.InvariantCulture)}-bit" : inferred ? $"{quantization} (read from the name)" : quantization;
            return new MemoryEstimate
            {
                Total = total,
                Method = MemoryEstimateMethod.Parameters,
                Weights = weights,
                ContextCache = cache,
                RuntimeOverhead = provider.RuntimeOverhead,
                ParameterCount = p,
                Quantization = quantization,
                BitsPerWeight = b,
                ContextTokens = tokens,
                Explanation = string.Create(CultureInfo.InvariantCulture,
                    $"weights {ByteSize.Format(weights)} ({FormatCount(p)} parameters at {quantText}, {b} bits each) + context cache {ByteSize.Format(cache)} ({tokens} tokens) + {provider.Name} runtime {ByteSize.Format(provider.RuntimeOverhead)}"),
            };
        }

        if ((model.Size ?? model.DiskUsage) is { } size && size > 0)
        {
            var total = (long)Math.Round(size * FileSizeFactor);
            return new MemoryEstimate
            {
                Total = total,
                Method = MemoryEstimateMethod.FileSize,
                Quantization = quantization,
                Explanation = string.Create(CultureInfo.InvariantCulture, $"file size {ByteSize.Format(size)} × {FileSizeFactor}"),
            };
        }

        return new MemoryEstimate
        {
            Method = MemoryEstimateMethod.Unknown,
            Quantization = quantization,
            Explanation = "neither a stated memory requirement, a parameter count with a known quantization, nor a file size is known",
        };
    }

    /// <summary>
    /// Bytes of f16 key/value cache per token of context: 2 (K and V) × 2 bytes × layers × KV width.
    /// From the file header when it gave layers, width and head counts (KV width = width × KV heads / heads).
    /// Otherwise from the parameter count alone, assuming the usual transformer shape: P ≈ 12·L·d² with
    /// L ≈ d/128 layers, so d = ∛(32·P/3), and grouped-query attention with 4 query heads per KV head;
    /// that gives d²/128 bytes per token (about 150 KB for an 8B model, 40 KB for 1.1B).
    /// </summary>
    public static double KvCacheBytesPerToken(ModelMetadata metadata, long parameterCount)
    {
        if (metadata.BlockCount is > 0 && metadata.EmbeddingLength is > 0)
        {
            var kvRatio = metadata.HeadCount is > 0 && metadata.HeadCountKv is > 0
                ? (double)metadata.HeadCountKv.Value / metadata.HeadCount.Value
                : 1.0;
            return 2.0 * 2.0 * metadata.BlockCount.Value * metadata.EmbeddingLength.Value * kvRatio;
        }

        var width = Math.Cbrt(32.0 * parameterCount / 3.0);
        return width * width / 128.0;
    }

    /// <summary>The quantization: stated, else read from a GGUF's file name or id (unquantized formats have none).</summary>
    internal static string? ResolveQuantization(ModelInfo model, string? format)
    {
        var stated = model.Metadata?.Quantization;
        if (!string.IsNullOrWhiteSpace(stated))
        {
            return stated.Trim();
        }

        return format == ModelFileNames.Gguf ? Quantization.FindIn(model.FileName) ?? Quantization.FindIn(model.Id) : null;
    }

    static string FormatCount(long count) => count switch
    {
        >= 1_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{count / 1e9:0.##}B"),
        >= 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{count / 1e6:0.##}M"),
        _ => count.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>Working out a model's file format when the catalog does not state it.</summary>
public static class ModelFormats
{
    /// <summary>The format, lower case: stated, else from the file name, local path or URL extension; null when unknown.</summary>
    public static string? Resolve(ModelInfo model)
    {
        if (!string.IsNullOrWhiteSpace(model.Format))
        {
            return model.Format.Trim().ToLowerInvariant();
        }

        foreach (var name in new[] { model.FileName, model.LocalPath, StripQuery(model.DownloadUrl) })
        {
            if (ModelFileNames.FormatOf(name) is { } format)
            {
                return format;
            }
        }

        return null;
    }

    public static bool IsUnquantizedFormat(string? format) => format is ModelFileNames.Safetensors or ModelFileNames.PyTorch;

    static string? StripQuery(string? url)
    {
        if (url is null)
        {
            return null;
        }

        var cut = url.IndexOfAny(new[] { '?', '#' });
        return cut < 0 ? url : url[..cut];
    }
}
