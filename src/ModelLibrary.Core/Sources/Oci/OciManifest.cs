using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelLibrary.Sources.Oci;

/// <summary>An OCI content descriptor (image-spec descriptor.md): what a manifest says about one blob.</summary>
public sealed record OciDescriptor
{
    [JsonPropertyName("mediaType")] public string MediaType { get; init; } = "";
    [JsonPropertyName("digest")] public string Digest { get; init; } = "";
    [JsonPropertyName("size")] public long Size { get; init; }
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
    [JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Annotations { get; init; }
    [JsonPropertyName("platform"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonElement? Platform { get; init; }

    public string? Annotation(string key) => Annotations is { } a && a.TryGetValue(key, out var value) ? value : null;
}

/// <summary>An image manifest (OCI or Docker schema 2) or an index / manifest list, as read from a registry.</summary>
public sealed record OciManifest
{
    [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 2;
    [JsonPropertyName("mediaType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }
    [JsonPropertyName("artifactType"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
    [JsonPropertyName("config"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public OciDescriptor? Config { get; init; }
    [JsonPropertyName("layers"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<OciDescriptor>? Layers { get; init; }
    [JsonPropertyName("manifests"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<OciDescriptor>? Manifests { get; init; }
    [JsonPropertyName("annotations"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Dictionary<string, string>? Annotations { get; init; }

    static readonly JsonSerializerOptions Options = new() { PropertyNameCaseInsensitive = false };

    public static OciManifest Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<OciManifest>(json, Options) ?? throw new JsonException("The manifest is null.");

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Options);
}

/// <summary>A manifest as the registry served it: the bytes (which its digest is of), their media type and digest.</summary>
public sealed record FetchedManifest(OciManifest Manifest, byte[] Bytes, string MediaType, string Digest);
