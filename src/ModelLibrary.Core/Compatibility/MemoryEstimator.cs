using System.Globalization;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Estimates the memory a model needs on a provider: weights + key/value cache at the context length asked for +
/// the runtime's overhead.
/// <list type="bullet">
/// <item>Weights, in order of trust: the tensor data the file's header lists; the file's size (a GGUF or safetensors
/// file is its weights and a small header). Without either, the catalog's stated <c>MemoryRequirement</c> stands
/// for the whole need; without that, parameters × bits per weight of the quantization.</item>
/// <item>Cache: 2 (K and V) × layers × KV heads × head size × bytes of the cache type (F16 by default, as llama.cpp
/// allocates; config.json's torch_dtype for transformers) per token, for the context length asked for, else
/// min(the model's, <see cref="DefaultContextWindow"/>). Layers, heads and head size come from the GGUF header or
/// config.json; without them a rule of thumb from the parameter count (see <see cref="KvCacheBytesPerToken"/>).</item>
/// <item>MoE: all experts count for memory; only the shared weights and the used experts' share are read per
/// token (<see cref="MemoryEstimate.ActiveWeights"/>), which is what bounds speed.</item>
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

    /// <summary>Experts used per token when a MoE model does not say (Mixtral, most others: 2).</summary>
    public const int AssumedExpertsUsed = 2;

    /// <summary>Share of a MoE model's weights in its experts when the tensors are not listed (FFN ≈ 2/3 of a block).</summary>
    public const double AssumedExpertShare = 2.0 / 3.0;

    public static MemoryEstimate Estimate(ModelInfo model, ProviderCapabilities provider, long? contextLength = null)
    {
        var metadata = model.Metadata ?? new ModelMetadata();
        var format = ModelFormats.Resolve(model);
        var parameters = metadata.ParameterCount is > 0 ? metadata.ParameterCount : ParameterCount.TryParse(metadata.Parameters);
        var quantization = ResolveQuantization(model, format);
        var bits = Quantization.BitsPerWeight(quantization)
            ?? (quantization is null && ModelFormats.IsUnquantizedFormat(format) ? Quantization.UnquantizedBitsPerWeight : (double?)null);

        long? weights = null;
        var method = MemoryEstimateMethod.Unknown;
        string weightsText = "";
        if (metadata.WeightBytes is > 0)
        {
            weights = metadata.WeightBytes;
            method = MemoryEstimateMethod.TensorData;
            weightsText = "the file's tensor data";
        }
        else if (format is "gguf" or "safetensors" && (model.Size ?? model.DiskUsage) is > 0)
        {
            weights = model.Size ?? model.DiskUsage;
            method = MemoryEstimateMethod.FileSize;
            weightsText = "the file size";
        }
        else if (ByteSize.TryParse(metadata.MemoryRequirement) is { } stated && stated > 0)
        {
            // The publisher's figure for the whole need beats a guess from the parameter count alone.
            return new MemoryEstimate
            {
                Total = stated,
                ActiveWeights = stated,
                Method = MemoryEstimateMethod.Metadata,
                Quantization = quantization,
                BitsPerWeight = bits,
                ParameterCount = parameters,
                ActiveParameterCount = parameters,
                Explanation = $"the catalog states {metadata.MemoryRequirement!.Trim()}",
            };
        }
        else if (parameters is { } p0 && bits is { } b0)
        {
            weights = (long)Math.Round(p0 * b0 / 8);
            method = MemoryEstimateMethod.Parameters;
            var inferred = string.IsNullOrWhiteSpace(metadata.Quantization) && quantization is not null;
            var quantText = quantization is null ? $"{b0.ToString(CultureInfo.InvariantCulture)}-bit" : inferred ? $"{quantization} (read from the name)" : quantization;
            weightsText = string.Create(CultureInfo.InvariantCulture, $"{FormatCount(p0)} parameters at {quantText}, {b0} bits each");
        }

        if (weights is not { } w)
        {
            return new MemoryEstimate
            {
                Method = MemoryEstimateMethod.Unknown,
                Quantization = quantization,
                ParameterCount = parameters,
                Explanation = "neither the file's tensor data, its size, a stated memory requirement, nor a parameter count with a known quantization is known",
            };
        }

        var tokens = contextLength is > 0 ? contextLength.Value
            : Math.Min(metadata.ContextLength is > 0 ? metadata.ContextLength.Value : AssumedContextLength, DefaultContextWindow);
        var cacheType = string.IsNullOrWhiteSpace(metadata.CacheType) ? "F16" : metadata.CacheType!.Trim().ToUpperInvariant();
        var cacheElementBytes = (Quantization.BitsPerWeight(cacheType) ?? 16) / 8;
        var fromShape = metadata.BlockCount is > 0 && metadata.EmbeddingLength is > 0;
        var perTokenExact = KvCacheBytesPerToken(metadata, parameters ?? (long)(w * 8 / (bits ?? Quantization.BitsPerWeight("Q4_K_M")!.Value))) / 2.0 * cacheElementBytes;
        var perToken = (long)Math.Round(perTokenExact);
        var cache = (long)Math.Round(perTokenExact * tokens);

        // MoE: the share of the weights read per token.
        var active = w;
        long? activeParameters = parameters;
        var experts = metadata.ExpertCount is > 1 ? metadata.ExpertCount : ParameterCount.TryParseExperts(metadata.Parameters);
        var moeText = "";
        if (experts is { } e && e > 1)
        {
            var used = Math.Min(e, metadata.ExpertUsedCount is > 0 ? metadata.ExpertUsedCount.Value : AssumedExpertsUsed);
            var expertShare = metadata.ExpertWeightBytes is > 0 && metadata.WeightBytes is > 0
                ? (double)metadata.ExpertWeightBytes.Value / metadata.WeightBytes.Value
                : AssumedExpertShare;
            var activeShare = 1 - expertShare + expertShare * used / e;
            active = (long)Math.Round(w * activeShare);
            activeParameters = parameters is { } all ? (long)Math.Round(all * activeShare) : null;
            moeText = string.Create(CultureInfo.InvariantCulture, $"; {used} of {e} experts per token, so {ByteSize.Format(active)} of weights read per token");
        }

        var total = w + cache + provider.RuntimeOverhead;
        return new MemoryEstimate
        {
            Total = total,
            Method = method,
            Weights = w,
            ActiveWeights = active,
            ContextCache = cache,
            ContextCachePerToken = perToken,
            CacheType = cacheType,
            RuntimeOverhead = provider.RuntimeOverhead,
            ParameterCount = parameters,
            ActiveParameterCount = activeParameters,
            Quantization = quantization,
            BitsPerWeight = bits,
            ContextTokens = tokens,
            CacheFromShape = fromShape,
            Explanation = string.Create(CultureInfo.InvariantCulture,
                $"weights {ByteSize.Format(w)} ({weightsText}) + {cacheType} KV cache {ByteSize.Format(cache)} ({tokens} tokens{(fromShape ? "" : ", shape estimated from the parameter count")}) + {provider.Name} runtime {ByteSize.Format(provider.RuntimeOverhead)}{moeText}"),
        };
    }

    /// <summary>
    /// Bytes of F16 key/value cache per token of context: layers × KV heads × (key + value head size) × 2 bytes.
    /// From the header or config.json when it gave layers and width (head size = key_length, else width / heads;
    /// KV heads = head_count_kv, else heads). Otherwise from the parameter count alone, assuming the usual transformer
    /// shape: P ≈ 12·L·d² with L ≈ d/128 layers, so d = ∛(32·P/3), and grouped-query attention with 4 query heads per
    /// KV head; that gives d²/128 bytes per token (about 150 KB for an 8B model, 40 KB for 1.1B).
    /// </summary>
    public static double KvCacheBytesPerToken(ModelMetadata metadata, long parameterCount)
    {
        if (metadata.BlockCount is > 0 && metadata.EmbeddingLength is > 0)
        {
            var heads = metadata.HeadCount is > 0 ? metadata.HeadCount.Value : 0;
            var kvHeads = metadata.HeadCountKv is > 0 ? metadata.HeadCountKv.Value : heads;
            if (heads > 0)
            {
                var headSize = (double)metadata.EmbeddingLength.Value / heads;
                var key = metadata.KeyLength is > 0 ? metadata.KeyLength.Value : headSize;
                var value = metadata.ValueLength is > 0 ? metadata.ValueLength.Value : key;
                return 2.0 * metadata.BlockCount.Value * kvHeads * (key + value);
            }

            return 2.0 * 2.0 * metadata.BlockCount.Value * metadata.EmbeddingLength.Value;
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
