namespace ModelLibrary.Sources.Oci;

/// <summary>
/// Media types the OCI source reads and writes. Sources: the OCI image spec (manifest, index), Docker's registry
/// schema 2, CNCF ModelPack (modelpack/model-spec docs/spec.md and docs/config.md), Docker Model Runner
/// (docker/model-runner pkg/distribution/types/config.go) and Ollama (ollama/ollama server/images.go, the
/// <c>application/vnd.ollama.image.*</c> layer types its pull and create write).
/// </summary>
public static class OciMediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

    /// <summary>What a manifest request accepts: a model is one of these; an index or list leads to one.</summary>
    public static readonly string[] ManifestAccept = { OciManifest, OciIndex, DockerManifest, DockerManifestList };

    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    // CNCF ModelPack.
    public const string ModelPackArtifact = "application/vnd.cncf.model.manifest.v1+json";
    public const string ModelPackConfig = "application/vnd.cncf.model.config.v1+json";
    public const string ModelPackWeightRaw = "application/vnd.cncf.model.weight.v1.raw";
    public const string ModelPackWeightTar = "application/vnd.cncf.model.weight.v1.tar";
    public const string ModelPackWeightTarGzip = "application/vnd.cncf.model.weight.v1.tar+gzip";
    public const string ModelPackWeightTarZstd = "application/vnd.cncf.model.weight.v1.tar+zstd";
    /// <summary>Suffixes of ModelPack's archive layers (docs/spec.md "layers"): a tar archive, plain or compressed.</summary>
    public const string TarSuffix = ".tar";
    public const string TarGzipSuffix = ".tar+gzip";
    public const string TarZstdSuffix = ".tar+zstd";
    /// <summary>Prefix of every ModelPack layer type (weights, weight configs, docs, code, datasets).</summary>
    public const string ModelPackLayerPrefix = "application/vnd.cncf.model.";
    public const string FilePathAnnotation = "org.cncf.model.filepath";
    /// <summary>The OCI image spec's file name annotation, which some packers set instead.</summary>
    public const string TitleAnnotation = "org.opencontainers.image.title";

    // Docker Model Runner.
    public const string DockerConfigV01 = "application/vnd.docker.ai.model.config.v0.1+json";
    public const string DockerConfigV02 = "application/vnd.docker.ai.model.config.v0.2+json";
    public const string DockerGguf = "application/vnd.docker.ai.gguf.v3";
    public const string DockerSafetensors = "application/vnd.docker.ai.safetensors";
    public const string DockerMmproj = "application/vnd.docker.ai.mmproj";
    public const string DockerLicense = "application/vnd.docker.ai.license";
    public const string DockerChatTemplate = "application/vnd.docker.ai.chat.template.jinja";
    public const string DockerAiPrefix = "application/vnd.docker.ai.";

    // Ollama.
    public const string OllamaConfig = "application/vnd.docker.container.image.v1+json";
    public const string OllamaModel = "application/vnd.ollama.image.model";
    public const string OllamaTemplate = "application/vnd.ollama.image.template";
    public const string OllamaParams = "application/vnd.ollama.image.params";
    public const string OllamaLicense = "application/vnd.ollama.image.license";
    public const string OllamaSystem = "application/vnd.ollama.image.system";
    public const string OllamaProjector = "application/vnd.ollama.image.projector";
    public const string OllamaMessages = "application/vnd.ollama.image.messages";
    public const string OllamaAdapter = "application/vnd.ollama.image.adapter";
    public const string OllamaPrefix = "application/vnd.ollama.image.";
}
