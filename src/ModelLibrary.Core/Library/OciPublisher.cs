using System.Text.Json.Nodes;
using ModelLibrary.Sources.Oci;
using ModelLibrary.Validation;

namespace ModelLibrary.Library;

/// <summary>A verified local model made into blobs and a manifest, ready to push (nothing sent yet).</summary>
public sealed record PublishPlan(ModelInfo Model, OciReference Destination, OciModelFormat Format, IReadOnlyList<PublishBlob> Blobs, byte[] Manifest, string MediaType)
{
    public long Size => Blobs.Sum(b => b.Size);
}

/// <summary>One blob to push: a model file, or the config (in memory).</summary>
public sealed record PublishBlob(string Digest, long Size, string MediaType, string? Path, byte[]? Bytes);

/// <summary>Progress of a push: the blob and the bytes of it the registry has.</summary>
public sealed record PublishProgress(string Digest, long Done, long Total, long AllDone, long AllTotal);

/// <summary>
/// Publish-LibraryModel: verifies a Local model (checksum, format, security scan), lays it out as ModelPack,
/// Docker Model Runner or Ollama, and pushes it: blobs the registry has (HEAD) or can link from a repository the
/// same model was pushed to before (a cross-repository mount) are not sent; the others go up in chunks that resume
/// after a drop; the manifest goes last, so a half-published model never has a tag.
/// </summary>
public sealed class OciPublisher
{
    /// <summary>Size of one PATCH of a chunked upload.</summary>
    public const long DefaultChunkSize = 16L * 1024 * 1024;

    /// <summary>On a published model's row: the references it was published to (what tab completion of -Destination offers).</summary>
    public const string PublishedKey = "oci_published";

    const int MaxPublishedNoted = 50;

    readonly ModelLibraryService library;

    public OciPublisher(ModelLibraryService library) => this.library = library;

    public long ChunkSize { get; init; } = DefaultChunkSize;

    /// <summary>Verifies the model and builds what would be pushed; sends nothing (what -WhatIf runs).</summary>
    /// <exception cref="ModelLibraryException">ModelNotFound, ModelNotLocal, InvalidModelSource (destination); the failed check's ErrorId.</exception>
    public async Task<PublishPlan> PlanAsync(string id, string destination, OciModelFormat format, CancellationToken cancellationToken)
    {
        var reference = OciReference.Parse(destination);
        if (reference.Digest is not null)
        {
            throw Errors.InvalidModelSource(destination,
                $"A model is published to a tag, not to a digest ('{destination}').", new Dictionary<string, object?> { ["destination"] = destination },
                new[] { "Give -Destination as <registry>/<repository>[:<tag>]." });
        }

        var model = await library.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var path = LibraryModelTester.LocalFileOf(model);
        var validation = await ModelValidator.ValidateFileAsync(path, model, library.Configuration, verifyChecksum: true, cancellationToken).ConfigureAwait(false);
        if (validation.Checks.FirstOrDefault(c => c.Outcome == ValidationOutcome.Failed) is { } failed)
        {
            // The failed check's own id, with its own exception type (a security finding is a SecurityError).
            var message = $"'{model.Id}' is not published: its {failed.Name} check failed ({failed.Message}). Nothing was sent.";
            var details = new Dictionary<string, object?> { ["model_id"] = model.Id, ["check"] = failed.Name };
            var step = $"Run Test-LibraryModel -Id {model.Id} for the details; download or import the model again.";
            throw failed.ErrorId switch
            {
                ErrorIds.ChecksumMismatch => Errors.ChecksumMismatch(message, model.Id, details, step),
                ErrorIds.UnsafeModelContent => Errors.UnsafeModelContent(message, model.Id, details, step),
                _ => (ModelLibraryException)Errors.InvalidModelFile(message, model.Id, details, step),
            };
        }

        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => (Full: f, Relative: Path.GetRelativePath(path, f).Replace('\\', '/'))).ToList()
            : new List<(string Full, string Relative)> { (path, Path.GetFileName(path)) };
        var layers = new List<(PublishBlob Blob, string Relative)>();
        foreach (var (full, relative) in files)
        {
            var digest = files.Count == 1 && Sha256Checksum.Normalize(model.Checksum) is { } known
                ? known // just verified against the bytes above
                : await Sha256Checksum.OfFileAsync(full, cancellationToken).ConfigureAwait(false);
            layers.Add((new PublishBlob(digest, new FileInfo(full).Length, LayerType(model, format, relative), full, null), relative));
        }

        var metadata = TryReadMetadata(path, cancellationToken);
        // The same model publishes to the same digests (so a second publish sends nothing): the time stamps are the
        // model's, not the clock's.
        var created = (model.DownloadDate ?? File.GetLastWriteTimeUtc(files[0].Full)).ToUniversalTime()
            .ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var config = BuildConfig(model, format, metadata, layers.Select(l => l.Blob.Digest).ToList(), created);
        var configBlob = new PublishBlob(OciRegistryClient.DigestOf(config), config.Length, ConfigType(format), null, config);
        var manifest = new OciManifest
        {
            MediaType = format == OciModelFormat.Ollama ? OciMediaTypes.DockerManifest : OciMediaTypes.OciManifest,
            ArtifactType = format == OciModelFormat.ModelPack ? OciMediaTypes.ModelPackArtifact : null,
            Config = new OciDescriptor { MediaType = configBlob.MediaType, Digest = configBlob.Digest, Size = configBlob.Size },
            Layers = layers.Select(l => new OciDescriptor
            {
                MediaType = l.Blob.MediaType,
                Digest = l.Blob.Digest,
                Size = l.Blob.Size,
                // Ollama's manifests carry no annotations; ModelPack and Docker Model Runner name the file.
                Annotations = format == OciModelFormat.Ollama ? null : new Dictionary<string, string> { [OciMediaTypes.FilePathAnnotation] = l.Relative },
            }).ToList(),
            Annotations = format == OciModelFormat.Ollama ? null : new Dictionary<string, string>
            {
                ["org.opencontainers.image.created"] = created,
                ["org.opencontainers.image.title"] = model.Name,
            },
        };
        var blobs = new List<PublishBlob> { configBlob };
        blobs.AddRange(layers.Select(l => l.Blob));
        return new PublishPlan(model, reference, format, blobs, manifest.ToJson(), manifest.MediaType!);
    }

    /// <summary>Pushes a plan: blobs first (skipping what the registry has), the manifest last.</summary>
    public async Task<PublishResult> PushAsync(PublishPlan plan, RegistryCredential? credential, IProgress<PublishProgress>? progress, CancellationToken cancellationToken)
    {
        var client = library.Registries.ClientFor(plan.Destination.Registry, credential);
        var repository = plan.Destination.Repository;
        var uploaded = 0;
        var skipped = 0;
        var allTotal = plan.Size;
        var allDone = 0L;
        var mountFrom = MountSources(plan);
        foreach (var blob in plan.Blobs.DistinctBy(b => b.Digest))
        {
            var done = allDone;
            if (await client.BlobExistsAsync(repository, blob.Digest, cancellationToken).ConfigureAwait(false)
                || await TryMountAsync(client, repository, blob.Digest, mountFrom, cancellationToken).ConfigureAwait(false))
            {
                skipped++;
            }
            else
            {
                var reporter = progress is null ? null : new InlineProgress(n => progress.Report(new PublishProgress(blob.Digest, n, blob.Size, done + n, allTotal)));
                await client.UploadBlobAsync(repository, blob.Digest, blob.Size, () => blob.Bytes is { } bytes ? new MemoryStream(bytes, writable: false) : File.OpenRead(blob.Path!),
                    ChunkSize, reporter, cancellationToken).ConfigureAwait(false);
                uploaded++;
            }

            allDone += blob.Size;
            progress?.Report(new PublishProgress(blob.Digest, blob.Size, blob.Size, allDone, allTotal));
        }

        var digest = await client.PutManifestAsync(repository, plan.Destination.Tag ?? "latest", plan.Manifest, plan.MediaType, cancellationToken).ConfigureAwait(false);
        RecordPublished(plan.Model.Id, plan.Destination.ToString());
        return new PublishResult
        {
            ModelId = plan.Model.Id,
            Reference = plan.Destination.ToString(),
            Digest = digest,
            Format = plan.Format,
            Size = plan.Size,
            BlobsUploaded = uploaded,
            BlobsSkipped = skipped,
        };
    }

    /// <summary>
    /// Notes the reference on the model's row, so a later -Destination completes without asking the registry. The push
    /// has succeeded by then: a model without a row (a file found on disk) or a row that cannot be written only goes
    /// unnoted; no row is made for it.
    /// </summary>
    void RecordPublished(string id, string reference)
    {
        try
        {
            if (library.Models.Get(id) is null)
            {
                return;
            }

            library.Models.Update(id, () => null, row =>
            {
                var references = OciKnownReferences.Published(row).Where(r => !string.Equals(r, reference, StringComparison.OrdinalIgnoreCase)).ToList();
                references.Add(reference);
                // The latest ones: a model published to a new tag every night keeps a row of bounded size.
                row.AdditionalProperties[PublishedKey] = references.TakeLast(MaxPublishedNoted).ToArray();
            });
        }
        catch (Exception e) when (e is ModelLibraryException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            // Only completion would miss it; the model is published.
        }
    }

    /// <summary>Repositories of the same registry the model came from, to mount its blobs from rather than upload them.</summary>
    static IReadOnlyList<string> MountSources(PublishPlan plan) =>
        OciReference.TryParse(plan.Model.Id, out var origin) && origin.Registry == plan.Destination.Registry && origin.Repository != plan.Destination.Repository
            ? new[] { origin.Repository }
            : Array.Empty<string>();

    static async Task<bool> TryMountAsync(OciRegistryClient client, string repository, string digest, IReadOnlyList<string> from, CancellationToken cancellationToken)
    {
        foreach (var source in from)
        {
            if (await client.TryMountAsync(repository, digest, source, cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    static string LayerType(ModelInfo model, OciModelFormat format, string relative)
    {
        var fileFormat = ModelFileNames.FormatOf(relative);
        return format switch
        {
            OciModelFormat.ModelPack => OciMediaTypes.ModelPackWeightRaw,
            OciModelFormat.Docker => fileFormat switch
            {
                "gguf" => OciMediaTypes.DockerGguf,
                "safetensors" => OciMediaTypes.DockerSafetensors,
                _ => throw NotInFormat(model, format, relative),
            },
            _ => fileFormat == "gguf" ? OciMediaTypes.OllamaModel : throw NotInFormat(model, format, relative),
        };
    }

    static ModelLibraryException NotInFormat(ModelInfo model, OciModelFormat format, string relative) => Errors.InvalidModelFile(
        $"'{model.Id}' cannot be published as {format}: its file '{relative}' is not {(format == OciModelFormat.Ollama ? "GGUF" : "GGUF or safetensors")}.",
        model.Id,
        new Dictionary<string, object?> { ["model_id"] = model.Id, ["format"] = format.ToString(), ["file"] = relative },
        "Publish it with -Format ModelPack, which carries any model file.");

    static string ConfigType(OciModelFormat format) => format switch
    {
        OciModelFormat.ModelPack => OciMediaTypes.ModelPackConfig,
        OciModelFormat.Docker => OciMediaTypes.DockerConfigV01,
        _ => OciMediaTypes.OllamaConfig,
    };

    ModelFileMetadata? TryReadMetadata(string path, CancellationToken cancellationToken)
    {
        try
        {
            return new ModelMetadataReader(library).ReadFile(path, cancellationToken);
        }
        catch (Exception e) when (e is ModelLibraryException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The layout's config: ModelPack's (modelpack/model-spec docs/config.md: descriptor, config, modelfs),
    /// Docker Model Runner's (docker/model-runner types.ConfigFile: config, descriptor, rootfs) or Ollama's
    /// (ollama/ollama server/images.go ConfigV2: model_format, model_family, model_type, file_type, rootfs).
    /// </summary>
    static byte[] BuildConfig(ModelInfo model, OciModelFormat format, ModelFileMetadata? file, IReadOnlyList<string> diffIds, string created)
    {
        var fileFormat = file?.Format ?? model.Format ?? ModelFileNames.FormatOf(model.LocalPath);
        var architecture = file?.Architecture ?? model.Metadata.Architecture;
        var parameters = file?.Parameters ?? model.Metadata.Parameters;
        var quantization = file?.Quantization ?? model.Metadata.Quantization;
        var context = file?.ContextLength ?? model.Metadata.ContextLength;
        var ids = new JsonArray(diffIds.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray());
        JsonObject root = format switch
        {
            OciModelFormat.ModelPack => new JsonObject
            {
                ["descriptor"] = Compact(new JsonObject { ["createdAt"] = created, ["name"] = model.Name, ["family"] = architecture, ["description"] = model.Description }),
                ["config"] = Compact(new JsonObject { ["architecture"] = architecture, ["format"] = fileFormat, ["paramSize"] = parameters, ["quantization"] = quantization }),
                ["modelfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = ids },
            },
            OciModelFormat.Docker => new JsonObject
            {
                ["config"] = Compact(new JsonObject
                {
                    ["format"] = fileFormat,
                    ["quantization"] = quantization,
                    ["parameters"] = parameters,
                    ["architecture"] = architecture,
                    ["size"] = model.DiskUsage?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["context_size"] = context,
                }),
                ["descriptor"] = new JsonObject { ["created"] = created },
                ["rootfs"] = new JsonObject { ["type"] = "rootfs", ["diff_ids"] = ids },
            },
            _ => Compact(new JsonObject
            {
                ["model_format"] = fileFormat,
                ["model_family"] = architecture,
                ["model_families"] = architecture is null ? null : new JsonArray(architecture),
                ["model_type"] = parameters,
                ["file_type"] = quantization,
                ["architecture"] = "amd64",
                ["os"] = "linux",
                ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = ids },
            }),
        };
        return System.Text.Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    static JsonObject Compact(JsonObject o)
    {
        foreach (var key in o.Where(p => p.Value is null).Select(p => p.Key).ToList())
        {
            o.Remove(key);
        }

        return o;
    }

    sealed class InlineProgress : IProgress<long>
    {
        readonly Action<long> report;

        public InlineProgress(Action<long> report) => this.report = report;

        public void Report(long value) => report(value);
    }
}
