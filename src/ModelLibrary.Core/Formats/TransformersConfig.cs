using System.Text.Json;

namespace ModelLibrary.Formats;

/// <summary>
/// The shape values a transformers <c>config.json</c> (beside the safetensors weights) gives for sizing the key/value
/// cache: layers, attention and KV heads, head size, the dtype the cache is kept in, and MoE expert counts.
/// </summary>
public sealed class TransformersConfig
{
    public long? Layers { get; init; }
    public long? Heads { get; init; }
    public long? KvHeads { get; init; }
    public long? HiddenSize { get; init; }
    public long? HeadDim { get; init; }
    public long? ContextLength { get; init; }
    /// <summary>torch_dtype spelled as safetensors spells it (BF16, F16, F32).</summary>
    public string? DType { get; init; }
    public long? Experts { get; init; }
    public long? ExpertsPerToken { get; init; }

    /// <summary>The config.json in <paramref name="folder"/>, or null when there is none or it is not a JSON object.</summary>
    public static TransformersConfig? TryRead(string folder)
    {
        var path = Path.Combine(folder, "config.json");
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > 1024 * 1024)
            {
                return null;
            }

            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            // Multimodal configs keep the language model's values under text_config.
            if (root.TryGetProperty("text_config", out var text) && text.ValueKind == JsonValueKind.Object && !root.TryGetProperty("num_hidden_layers", out _))
            {
                root = text;
            }

            long? Int(params string[] names)
            {
                foreach (var name in names)
                {
                    if (root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n > 0)
                    {
                        return n;
                    }
                }

                return null;
            }

            var dtype = root.TryGetProperty("torch_dtype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()
                : root.TryGetProperty("dtype", out var d2) && d2.ValueKind == JsonValueKind.String ? d2.GetString() : null;
            return new TransformersConfig
            {
                Layers = Int("num_hidden_layers", "n_layer", "num_layers"),
                Heads = Int("num_attention_heads", "n_head"),
                KvHeads = Int("num_key_value_heads", "num_attention_heads", "n_head"),
                HiddenSize = Int("hidden_size", "n_embd", "d_model"),
                HeadDim = Int("head_dim"),
                ContextLength = Int("max_position_embeddings", "n_positions"),
                DType = dtype?.ToLowerInvariant() switch
                {
                    "bfloat16" => "BF16",
                    "float16" or "half" => "F16",
                    "float32" or "float" => "F32",
                    _ => null,
                },
                Experts = Int("num_local_experts", "num_experts", "n_routed_experts"),
                ExpertsPerToken = Int("num_experts_per_tok", "num_experts_per_token"),
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }
}
