using System.Text.Json;

namespace ModelLibrary.Sources.Oci;

/// <summary>The three ways a model is laid out in a registry.</summary>
public enum OciModelFormat
{
    /// <summary>CNCF ModelPack (modelpack/model-spec): artifactType <c>application/vnd.cncf.model.manifest.v1+json</c>.</summary>
    ModelPack,
    /// <summary>Docker Model Runner (docker/model-runner): config <c>application/vnd.docker.ai.model.config.v0.1+json</c>.</summary>
    Docker,
    /// <summary>Ollama (ollama/ollama): Docker schema 2 with <c>application/vnd.ollama.image.*</c> layers.</summary>
    Ollama,
}

/// <summary>What a layer is to the model.</summary>
public enum OciFileRole
{
    Weights,
    Projector,
    Template,
    Parameters,
    License,
    Documentation,
    Other,
}

/// <summary>
/// One layer and the path it takes inside the model's folder. An archive layer (<see cref="Unpack"/> <c>tar</c> or
/// <c>tar+gzip</c>) is unpacked at the folder's root; its <see cref="RelativePath"/> is then the file its
/// <c>org.cncf.model.filepath</c> says it holds, or a name made of its digest when it says none.
/// </summary>
public sealed record OciModelFile(OciDescriptor Layer, string RelativePath, OciFileRole Role, string? Unpack = null)
{
    public bool IsArchive => Unpack is not null;
}

/// <summary>A model manifest read as a model: its format, config and files, the main weights first.</summary>
public sealed record OciModelLayoutResult(OciModelFormat Format, OciDescriptor Config, IReadOnlyList<OciModelFile> Files)
{
    public OciModelFile Primary => Files.First(f => f.Role == OciFileRole.Weights);
    public IEnumerable<OciModelFile> Weights => Files.Where(f => f.Role == OciFileRole.Weights);
}

/// <summary>
/// Reads a manifest as one of the three model layouts and says where each layer goes; refuses unknown layer
/// media types and paths that would leave the model's folder. Also reads each layout's config into metadata.
/// </summary>
public static class OciModelLayout
{
    static readonly Dictionary<string, (OciFileRole Role, string Name)> DockerLayers = new(StringComparer.Ordinal)
    {
        [OciMediaTypes.DockerGguf] = (OciFileRole.Weights, "model.gguf"),
        [OciMediaTypes.DockerSafetensors] = (OciFileRole.Weights, "model.safetensors"),
        [OciMediaTypes.DockerMmproj] = (OciFileRole.Projector, "model.mmproj"),
        [OciMediaTypes.DockerLicense] = (OciFileRole.License, "LICENSE"),
        [OciMediaTypes.DockerChatTemplate] = (OciFileRole.Template, "template.jinja"),
    };

    // Names as `ollama show --modelfile` and its blobs suggest them; the model is GGUF.
    static readonly Dictionary<string, (OciFileRole Role, string Name)> OllamaLayers = new(StringComparer.Ordinal)
    {
        [OciMediaTypes.OllamaModel] = (OciFileRole.Weights, "model.gguf"),
        [OciMediaTypes.OllamaProjector] = (OciFileRole.Projector, "projector.gguf"),
        [OciMediaTypes.OllamaAdapter] = (OciFileRole.Other, "adapter.gguf"),
        [OciMediaTypes.OllamaTemplate] = (OciFileRole.Template, "template"),
        [OciMediaTypes.OllamaSystem] = (OciFileRole.Other, "system"),
        [OciMediaTypes.OllamaParams] = (OciFileRole.Parameters, "params.json"),
        [OciMediaTypes.OllamaMessages] = (OciFileRole.Other, "messages.json"),
        [OciMediaTypes.OllamaLicense] = (OciFileRole.License, "LICENSE"),
    };

    public static bool IsModelArtifactType(string? artifactType) => artifactType == OciMediaTypes.ModelPackArtifact;

    /// <summary>The layout a manifest uses, or null when it is no model (a container image, say).</summary>
    public static OciModelFormat? Recognize(OciManifest manifest)
    {
        var config = manifest.Config?.MediaType;
        if (manifest.ArtifactType == OciMediaTypes.ModelPackArtifact || config == OciMediaTypes.ModelPackConfig)
        {
            return OciModelFormat.ModelPack;
        }

        if (config is OciMediaTypes.DockerConfigV01 or OciMediaTypes.DockerConfigV02)
        {
            return OciModelFormat.Docker;
        }

        if (manifest.Layers?.Any(l => l.MediaType.StartsWith(OciMediaTypes.OllamaPrefix, StringComparison.Ordinal)) == true)
        {
            return OciModelFormat.Ollama;
        }

        return null;
    }

    /// <exception cref="ValidationException">InvalidModelFile: not a model, an unknown layer type, no weights, two layers on one path.</exception>
    /// <exception cref="SecurityException">UnsafeModelContent: a layer path that leaves the model's folder.</exception>
    public static OciModelLayoutResult Interpret(OciReference reference, OciManifest manifest)
    {
        var format = Recognize(manifest)
            ?? throw RegistryErrors.InvalidArtifact(reference, $"its manifest (artifactType '{manifest.ArtifactType}', config '{manifest.Config?.MediaType}') is neither a CNCF ModelPack, a Docker Model Runner nor an Ollama model");
        if (manifest.Config is null || !IsDigest(manifest.Config.Digest))
        {
            throw RegistryErrors.InvalidArtifact(reference, "its manifest has no config descriptor");
        }

        var files = new List<OciModelFile>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var layer in manifest.Layers ?? new List<OciDescriptor>())
        {
            if (!IsDigest(layer.Digest) || layer.Size < 0)
            {
                throw RegistryErrors.InvalidArtifact(reference, $"a layer has the digest '{layer.Digest}' and size {layer.Size}; only sha256 digests are read");
            }

            var file = format switch
            {
                OciModelFormat.ModelPack => ModelPackFile(reference, layer),
                OciModelFormat.Docker => Named(reference, layer, DockerLayers, "Docker Model Runner"),
                _ => Named(reference, layer, OllamaLayers, "Ollama"),
            };

            // Two layers of one kind without names (two safetensors shards, say): number the later ones.
            counts[file.RelativePath] = counts.GetValueOrDefault(file.RelativePath) + 1;
            if (counts[file.RelativePath] > 1)
            {
                if (layer.Annotation(OciMediaTypes.FilePathAnnotation) is not null)
                {
                    throw RegistryErrors.InvalidArtifact(reference, $"two layers are both '{file.RelativePath}'");
                }

                var extension = Path.GetExtension(file.RelativePath);
                file = file with { RelativePath = $"{Path.GetFileNameWithoutExtension(file.RelativePath)}-{counts[file.RelativePath]:00000}{extension}" };
            }

            files.Add(file);
        }

        if (!files.Any(f => f.Role == OciFileRole.Weights))
        {
            throw RegistryErrors.InvalidArtifact(reference, "it has no weight layer");
        }

        // The main weights first: the engine brings them, and the model's file is theirs.
        files = files.OrderBy(f => f.Role == OciFileRole.Weights ? 0 : 1).ToList();
        return new OciModelLayoutResult(format, manifest.Config, files);
    }

    /// <summary>
    /// A ModelPack layer (modelpack/model-spec docs/spec.md, "layers"): <c>.raw</c> is the file itself at its
    /// <c>org.cncf.model.filepath</c> (docs/annotations.md: "the file path of the layer"); <c>.tar</c> and
    /// <c>.tar+gzip</c> are tar archives "that contain the model weights file" (or config, docs, code), unpacked at the
    /// model folder's root, where the filepath annotation, when present, names the file the archive holds (as modctl
    /// packs it: the file under its path relative to the model's folder). <c>.tar+zstd</c> is refused: .NET has no zstd.
    /// </summary>
    static OciModelFile ModelPackFile(OciReference reference, OciDescriptor layer)
    {
        var type = layer.MediaType;
        string? unpack = type.EndsWith(OciMediaTypes.TarSuffix, StringComparison.Ordinal) ? Files.ArchiveUnpacker.Tar
            : type.EndsWith(OciMediaTypes.TarGzipSuffix, StringComparison.Ordinal) ? Files.ArchiveUnpacker.TarGzip
            : null;
        if (type.StartsWith(OciMediaTypes.ModelPackLayerPrefix, StringComparison.Ordinal) && type.EndsWith(OciMediaTypes.TarZstdSuffix, StringComparison.Ordinal))
        {
            throw RegistryErrors.InvalidArtifact(reference, $"the layer {layer.Digest} has the media type '{type}', a zstd-compressed tar archive, which this library cannot unpack (no zstd in .NET); ask for the artifact with '.tar', '.tar+gzip' or '.raw' layers");
        }

        if (!type.StartsWith(OciMediaTypes.ModelPackLayerPrefix, StringComparison.Ordinal) || !(type.EndsWith(".raw", StringComparison.Ordinal) || unpack is not null))
        {
            throw RegistryErrors.InvalidArtifact(reference, $"the layer {layer.Digest} has the media type '{type}', which is not one this library reads (ModelPack .raw, .tar and .tar+gzip layers)");
        }

        var kind = type[OciMediaTypes.ModelPackLayerPrefix.Length..];
        var role = kind.StartsWith("weight.v1.", StringComparison.Ordinal) ? OciFileRole.Weights
            : kind.StartsWith("doc.", StringComparison.Ordinal) ? OciFileRole.Documentation
            : OciFileRole.Other;
        var path = layer.Annotation(OciMediaTypes.FilePathAnnotation) ?? layer.Annotation(OciMediaTypes.TitleAnnotation);
        if (path is null && unpack is not null)
        {
            // The spec's own example has archive layers without annotations: the archive's members name the files.
            return new OciModelFile(layer, $"layer-{layer.Digest[7..19]}.{(unpack == Files.ArchiveUnpacker.Tar ? "tar" : "tar.gz")}", role, unpack);
        }

        path = path ?? throw RegistryErrors.InvalidArtifact(reference, $"the layer {layer.Digest} has no '{OciMediaTypes.FilePathAnnotation}' annotation");
        return new OciModelFile(layer, SafeRelativePath(reference, path), role, unpack);
    }

    static OciModelFile Named(OciReference reference, OciDescriptor layer, Dictionary<string, (OciFileRole Role, string Name)> known, string layout)
    {
        if (!known.TryGetValue(layer.MediaType, out var entry))
        {
            throw RegistryErrors.InvalidArtifact(reference, $"the layer {layer.Digest} has the media type '{layer.MediaType}', which is not a {layout} layer this library reads");
        }

        var path = layer.Annotation(OciMediaTypes.FilePathAnnotation) ?? entry.Name;
        return new OciModelFile(layer, SafeRelativePath(reference, path), entry.Role);
    }

    /// <summary>
    /// A layer's path, refused (UnsafeModelContent, naming the artifact) when it would leave the model's folder: the
    /// one rule for every source's paths, <see cref="ModelReference.CheckRelativePath"/>. The download engine checks
    /// containment again on the resolved path.
    /// </summary>
    public static string SafeRelativePath(OciReference reference, string path) => ModelReference.CheckRelativePath(path, reference.ToString());

    static bool IsDigest(string? digest) => digest is { Length: 71 } && digest.StartsWith("sha256:", StringComparison.Ordinal) && digest[7..].All(Uri.IsHexDigit);

    /// <summary>Fills format, architecture, parameters, quantization and context from a layout's config.</summary>
    public static void ReadConfig(OciModelFormat format, byte[] config, ModelInfo model)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(config);
        }
        catch (JsonException)
        {
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return;
            }

            var metadata = model.Metadata;
            switch (format)
            {
                case OciModelFormat.ModelPack:
                {
                    var c = Object(root, "config");
                    var d = Object(root, "descriptor");
                    model.Format = Text(c, "format")?.ToLowerInvariant() ?? model.Format;
                    metadata.Architecture = Text(c, "architecture") ?? Text(d, "family");
                    metadata.Parameters = Text(c, "paramSize");
                    metadata.Quantization = Text(c, "quantization") ?? Text(c, "precision");
                    metadata.License = d is { } dd && dd.TryGetProperty("licenses", out var l) && l.ValueKind == JsonValueKind.Array
                        ? string.Join(", ", l.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()))
                        : null;
                    model.Description = Text(d, "description") ?? model.Description;
                    if (Text(d, "name") is { } name)
                    {
                        model.Name = name;
                    }

                    break;
                }

                case OciModelFormat.Docker:
                {
                    var c = Object(root, "config");
                    model.Format = Text(c, "format")?.ToLowerInvariant() ?? model.Format;
                    metadata.Architecture = Text(c, "architecture");
                    metadata.Parameters = Text(c, "parameters");
                    metadata.Quantization = Text(c, "quantization");
                    if (c is { } cc && cc.TryGetProperty("context_size", out var context) && context.TryGetInt64(out var length))
                    {
                        metadata.ContextLength = length;
                    }

                    break;
                }

                case OciModelFormat.Ollama:
                    model.Format = Text(root, "model_format")?.ToLowerInvariant() ?? "gguf";
                    metadata.Architecture = Text(root, "model_family");
                    metadata.Parameters = Text(root, "model_type");
                    metadata.Quantization = Text(root, "file_type");
                    break;
            }
        }
    }

    static JsonElement? Object(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : null;

    static string? Text(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
