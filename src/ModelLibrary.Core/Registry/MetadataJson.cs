using System.Text.Json;

namespace ModelLibrary.Registry;

/// <summary>
/// The seed's metadata structure (snake_case JSON) to and from <see cref="ModelMetadata"/>. Used by catalogs and the
/// registry's <c>metadata</c> column alike, so a catalog's metadata and a stored row read the same way.
/// </summary>
public static class MetadataJson
{
    public static ModelMetadata Read(JsonElement element)
    {
        var metadata = new ModelMetadata();
        if (element.ValueKind != JsonValueKind.Object)
        {
            return metadata;
        }

        metadata.Parameters = JsonValues.GetString(element, "parameters");
        metadata.Quantization = JsonValues.GetString(element, "quantization");
        metadata.MemoryRequirement = JsonValues.GetString(element, "memory_requirement");
        metadata.ContextLength = JsonValues.GetInt64(element, "context_length");
        metadata.License = JsonValues.GetString(element, "license");
        metadata.Tags = JsonValues.GetStrings(element, "tags");
        metadata.Architecture = JsonValues.GetString(element, "architecture");
        metadata.TrainingData = JsonValues.GetString(element, "training_data");
        metadata.PerformanceMetrics = JsonValues.GetObject(element, "performance_metrics");
        metadata.ParameterCount = JsonValues.GetInt64(element, "parameter_count");
        metadata.EmbeddingLength = JsonValues.GetInt64(element, "embedding_length");
        metadata.BlockCount = JsonValues.GetInt64(element, "block_count");
        metadata.HeadCount = JsonValues.GetInt64(element, "head_count");
        metadata.HeadCountKv = JsonValues.GetInt64(element, "head_count_kv");
        metadata.ExpertCount = JsonValues.GetInt64(element, "expert_count");
        metadata.ExpertUsedCount = JsonValues.GetInt64(element, "expert_used_count");
        metadata.KeyLength = JsonValues.GetInt64(element, "key_length");
        metadata.ValueLength = JsonValues.GetInt64(element, "value_length");
        metadata.WeightBytes = JsonValues.GetInt64(element, "weight_bytes");
        metadata.ExpertWeightBytes = JsonValues.GetInt64(element, "expert_weight_bytes");
        metadata.CacheType = JsonValues.GetString(element, "cache_type");
        metadata.TokenizerModel = JsonValues.GetString(element, "tokenizer_model");
        metadata.HasChatTemplate = element.TryGetProperty("has_chat_template", out var chat) && chat.ValueKind is JsonValueKind.True or JsonValueKind.False ? chat.GetBoolean() : null;
        metadata.TensorCount = JsonValues.GetInt64(element, "tensor_count");
        metadata.FileFormatVersion = JsonValues.GetString(element, "file_format_version");
        return metadata;
    }

    public static ModelMetadata Read(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new ModelMetadata();
        }

        using var document = JsonDocument.Parse(json);
        return Read(document.RootElement);
    }

    public static string Write(ModelMetadata metadata)
    {
        var values = new Dictionary<string, object?>
        {
            ["parameters"] = metadata.Parameters,
            ["quantization"] = metadata.Quantization,
            ["memory_requirement"] = metadata.MemoryRequirement,
            ["context_length"] = metadata.ContextLength,
            ["license"] = metadata.License,
            ["tags"] = metadata.Tags,
            ["architecture"] = metadata.Architecture,
            ["training_data"] = metadata.TrainingData,
            ["performance_metrics"] = metadata.PerformanceMetrics,
            ["parameter_count"] = metadata.ParameterCount,
            ["embedding_length"] = metadata.EmbeddingLength,
            ["block_count"] = metadata.BlockCount,
            ["head_count"] = metadata.HeadCount,
            ["head_count_kv"] = metadata.HeadCountKv,
            ["expert_count"] = metadata.ExpertCount,
            ["expert_used_count"] = metadata.ExpertUsedCount,
            ["key_length"] = metadata.KeyLength,
            ["value_length"] = metadata.ValueLength,
            ["weight_bytes"] = metadata.WeightBytes,
            ["expert_weight_bytes"] = metadata.ExpertWeightBytes,
            ["cache_type"] = metadata.CacheType,
            ["tokenizer_model"] = metadata.TokenizerModel,
            ["has_chat_template"] = metadata.HasChatTemplate,
            ["tensor_count"] = metadata.TensorCount,
            ["file_format_version"] = metadata.FileFormatVersion,
        };
        return JsonSerializer.Serialize(values.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value));
    }
}
