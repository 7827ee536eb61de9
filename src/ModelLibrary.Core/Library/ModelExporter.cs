using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelLibrary.Files;
using ModelLibrary.Sources.Stores;
using ModelLibrary.Validation;

namespace ModelLibrary.Library;

/// <summary>
/// Export-LibraryModel: makes a Local model usable by another tool where that tool looks, sharing its bytes by a hard
/// link when on the same file system (else a verified copy). Ollama gets a blob and a manifest as its own code writes
/// them (manifest/manifest.go WriteManifest; types/model/config.go ConfigV2), so <c>ollama run &lt;name&gt;</c> works
/// without <c>ollama create</c>; the Hugging Face cache gets the layout huggingface_hub writes (file_download.py:
/// blobs named by ETag, relative links in <c>snapshots/&lt;commit&gt;/</c>, <c>refs/main</c> without a newline).
/// Every file is placed through a temporary name and a rename, so the tool never reads half a file.
/// </summary>
public sealed partial class ModelExporter
{
    public const string Ollama = "Ollama";
    public const string HuggingFaceCache = "HuggingFaceCache";

    /// <summary>Files huggingface_hub stores in LFS (named by their SHA-256); other files are named by their git blob SHA-1.</summary>
    static readonly string[] LfsExtensions = { ".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".msgpack", ".h5", ".model" };
    const long LfsThreshold = 10L * 1024 * 1024;

    readonly ModelLibraryService library;

    public ModelExporter(ModelLibraryService library) => this.library = library;

    /// <summary>What an export would do, checked (the model is Local and fits the tool; the name is valid); nothing written.</summary>
    public sealed record ExportPlan(ModelInfo Model, string To, string Root, string Name, string Description, IReadOnlyList<(string Relative, string Source)> Files, string? Note);

    public async Task<ExportPlan> PlanAsync(string id, string to, string? root, string? name, CancellationToken cancellationToken)
    {
        var model = await library.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var local = LibraryModelTester.LocalFileOf(model);
        var files = FilesOf(model, local, cancellationToken);
        if (string.Equals(to, Ollama, StringComparison.OrdinalIgnoreCase))
        {
            var (gguf, projector) = OllamaFiles(model, local, files);
            var ollamaRoot = Path.GetFullPath(root ?? OllamaStore.DefaultRoot());
            var parts = ParseOllamaName(name ?? DefaultOllamaName(model), model.Id);
            var display = OllamaStore.DisplayName(parts.Host, parts.Namespace, parts.Model, parts.Tag);
            var handed = new List<(string Relative, string Source)> { (Path.GetFileName(gguf), gguf) };
            if (projector is not null)
            {
                handed.Add((Path.GetFileName(projector), projector));
            }

            return new ExportPlan(model, Ollama, ollamaRoot, display,
                $"Add '{display}' to Ollama's store '{ollamaRoot}' ({(projector is null ? "model blob" : "model and projector blobs")} hard-linked to '{gguf}' where the file system allows, else copied)", handed, null);
        }

        var cacheRoot = Path.GetFullPath(root ?? HuggingFaceCacheStore.DefaultRoot());
        string repoId;
        string? note = null;
        if (name is not null)
        {
            repoId = ParseRepoId(name, model.Id);
        }
        else if (model.Id.StartsWith(ModelReference.HubHost + "/", StringComparison.OrdinalIgnoreCase) && ModelReference.Parse(model.Id).RepoId is { } hub)
        {
            repoId = hub;
        }
        else
        {
            repoId = "modellibrary/" + model.Id;
            note = $"'{model.Id}' did not come from the Hugging Face Hub; it is filed in the cache as '{repoId}' (give -Name <owner>/<repo> for another name).";
        }

        return new ExportPlan(model, HuggingFaceCache, cacheRoot, repoId,
            $"Add '{repoId}' to the Hugging Face cache '{cacheRoot}' ({files.Count} file(s), hard-linked where the file system allows, else copied)", files, note);
    }

    /// <summary>
    /// The model's files, relative to the folder they come from. A folder model (LocalPath a folder, or a file in the
    /// model's own library folder, which a download or an import fills with that model's files only) hands on every file
    /// of its folder but hidden ones: config, tokenizer and generation files, shards and their index, a projector. A file
    /// elsewhere (registered in place, another tool's store) hands on its parts (split GGUF parts, safetensors shards and
    /// index) and the mmproj projector that goes with it.
    /// </summary>
    IReadOnlyList<(string Relative, string Source)> FilesOf(ModelInfo model, string local, CancellationToken cancellationToken)
    {
        var folder = Directory.Exists(local) ? local
            : model.ExternalStore is null && string.Equals(Path.GetDirectoryName(Path.GetFullPath(local)), Path.GetFullPath(library.ModelDirectory(model)), StringComparison.Ordinal)
                ? Path.GetDirectoryName(Path.GetFullPath(local))!
                : null;
        if (folder is not null)
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden };
            return Directory.EnumerateFiles(folder, "*", options)
                .Select(f => (Relative: Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), Source: f))
                .Where(f => !f.Relative.Split('/').Any(part => part.StartsWith('.')))
                .OrderBy(f => f.Relative, StringComparer.Ordinal).ToList();
        }

        Formats.ModelFileInfo? header = null;
        try
        {
            header = Formats.ModelFileInspector.Inspect(local, cancellationToken);
        }
        catch (Exception e) when (e is ModelLibraryException or IOException or InvalidDataException)
        {
            // Unreadable header: the parts found by name stand (Test-LibraryModel says what is wrong with it).
        }

        var paths = ModelFiles.Parts(local, header).ToList();
        if (ProjectorOf(model, local) is { } projector && !paths.Contains(projector, StringComparer.Ordinal))
        {
            paths.Add(projector);
        }

        var from = Path.GetDirectoryName(Path.GetFullPath(local))!;
        return paths.Select(p => (Path.GetRelativePath(from, p).Replace(Path.DirectorySeparatorChar, '/'), p)).ToList();
    }

    /// <summary>
    /// The projector (mmproj GGUF) that goes with a model: the blob an Ollama store names, the file a Hub download, the Hub
    /// cache or LM Studio recorded beside the model, else an mmproj GGUF in the model's own folder; null when it has none.
    /// </summary>
    static string? ProjectorOf(ModelInfo model, string local)
    {
        if (model.AdditionalProperties.TryGetValue("projector", out var blob) && blob?.ToString() is { Length: > 0 } path && File.Exists(path))
        {
            return Path.GetFullPath(path);
        }

        if (model.AdditionalProperties.TryGetValue("mmproj", out var name) && name?.ToString() is { Length: > 0 } file
            && Path.GetDirectoryName(Path.GetFullPath(local)) is { } folder && Path.Combine(folder, file) is var beside && File.Exists(beside)
            && Files.PathContainment.IsInsideAsWritten(beside, folder))
        {
            return Path.GetFullPath(beside);
        }

        return null;
    }

    /// <summary>
    /// The one GGUF and the projector Ollama takes from a manifest, or an error that says what to do instead. Ollama's
    /// server/images.go GetModel keeps one model path (a second application/vnd.ollama.image.model layer replaces the
    /// first), so a split set cannot be handed over as layers: `ollama create` merges its parts (server/create.go
    /// mergeSplitGGUFLayers). A safetensors model needs `ollama create` to convert it (convertFromSafetensors).
    /// </summary>
    static (string Gguf, string? Projector) OllamaFiles(ModelInfo model, string local, IReadOnlyList<(string Relative, string Source)> files)
    {
        var ggufs = files.Where(f => f.Relative.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).Select(f => f.Source).ToList();
        var projector = ProjectorOf(model, local) ?? ggufs.FirstOrDefault(f => Path.GetFileName(f).Contains("mmproj", StringComparison.OrdinalIgnoreCase));
        var weights = ggufs.Where(f => !string.Equals(f, projector, StringComparison.Ordinal)).ToList();
        var entry = File.Exists(local) && local.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) ? Path.GetFullPath(local) : weights.FirstOrDefault();
        if (entry is null || Formats.ModelFileInspector.DetectFormat(entry) != Formats.ModelFileFormat.Gguf)
        {
            throw Errors.NotExportable(model, Ollama,
                $"Ollama runs GGUF models; '{model.Id}' is a {model.Format ?? "non-GGUF"} model, which Ollama must convert itself.",
                $"Convert it with Ollama: write a Modelfile with the line 'FROM {(Directory.Exists(local) ? local : Path.GetDirectoryName(local))}' and run 'ollama create <name> -f Modelfile'.",
                $"Or export it to the Hugging Face cache instead: Export-LibraryModel {model.Id} -To HuggingFaceCache.");
        }

        if (SplitPart().IsMatch(Path.GetFileName(entry)) || weights.Count > 1)
        {
            throw Errors.NotExportable(model, Ollama,
                $"'{model.Id}' is a GGUF split into {Math.Max(weights.Count, 2)} files; Ollama loads one GGUF file per model from its store, so the parts cannot be handed over as they are.",
                $"Let Ollama merge them: write a Modelfile with the line 'FROM {entry}' and run 'ollama create <name> -f Modelfile'.",
                "Or merge the parts into one file with llama.cpp's 'llama-gguf-split --merge', import that file with Import-LibraryModel, and export it.");
        }

        if (projector is not null && Formats.ModelFileInspector.DetectFormat(projector) != Formats.ModelFileFormat.Gguf)
        {
            throw Errors.NotExportable(model, Ollama,
                $"The projector of '{model.Id}' ('{projector}') is not a GGUF file, which Ollama needs for a projector layer.",
                "Download the model's mmproj GGUF again (Start-ModelDownload -Force), then export it.");
        }

        return (entry, projector);
    }

    public Task<ExportResult> ExportAsync(ExportPlan plan, bool force, CancellationToken cancellationToken) =>
        plan.To == Ollama ? ToOllamaAsync(plan, force, cancellationToken) : ToHubCacheAsync(plan, cancellationToken);

    async Task<ExportResult> ToOllamaAsync(ExportPlan plan, bool force, CancellationToken cancellationToken)
    {
        var model = plan.Model;
        var source = plan.Files[0].Source;
        var sha = await VerifiedSha256Async(model, source, cancellationToken).ConfigureAwait(false);
        var gguf = Formats.GgufReader.Read(source, cancellationToken);
        var parts = ParseOllamaName(plan.Name, model.Id);
        var manifestPath = Path.Combine(plan.Root, "manifests", parts.Host, parts.Namespace, parts.Model, parts.Tag);

        Directory.CreateDirectory(Path.Combine(plan.Root, "blobs"));
        var blob = OllamaStore.BlobPath(plan.Root, "sha256:" + sha)!;
        var linked = await PlaceAsync(source, blob, sha, cancellationToken).ConfigureAwait(false);

        // types/model/config.go ConfigV2, as `ollama create` fills it from the GGUF.
        var family = gguf.Architecture ?? model.Metadata.Architecture ?? "unknown";
        var config = new Dictionary<string, object?>
        {
            ["model_format"] = "gguf",
            ["model_family"] = family,
            ["model_families"] = new[] { family },
            ["model_type"] = model.Metadata.Parameters ?? ParameterLabel(gguf.ParameterCount),
            ["file_type"] = gguf.Quantization ?? model.Metadata.Quantization ?? "unknown",
            ["architecture"] = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64",
            ["os"] = OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsMacOS() ? "darwin" : "linux",
        };
        var configLayer = WriteSmallBlob(plan.Root, JsonSerializer.SerializeToUtf8Bytes(config), "application/vnd.docker.container.image.v1+json");
        var layers = new List<Dictionary<string, object>> { Layer(OllamaStore.ModelMediaType, "sha256:" + sha, new FileInfo(source).Length) };
        if (plan.Files.Count > 1)
        {
            // server/create.go puts a projector GGUF in its own layer after the model's; images.go GetModel adds each
            // projector layer to ProjectorPaths, which gives the model its vision capability.
            var projector = plan.Files[1].Source;
            var projectorSha = await Sha256Checksum.HexOfFileAsync(projector, cancellationToken).ConfigureAwait(false);
            linked &= await PlaceAsync(projector, OllamaStore.BlobPath(plan.Root, "sha256:" + projectorSha)!, projectorSha, cancellationToken).ConfigureAwait(false);
            layers.Add(Layer(OllamaStore.ProjectorMediaType, "sha256:" + projectorSha, new FileInfo(projector).Length));
        }

        if (OllamaTemplates.ForChatTemplate(gguf.GetString("tokenizer.chat_template")) is { } template)
        {
            layers.Add(WriteSmallBlob(plan.Root, Encoding.UTF8.GetBytes(template.Template), "application/vnd.ollama.image.template"));
            layers.Add(WriteSmallBlob(plan.Root, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["stop"] = template.Stop }), "application/vnd.ollama.image.params"));
        }

        // manifest.WriteManifest: schema 2, Docker's v2 media type, json.Encoder's compact JSON and newline.
        var manifest = new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json",
            ["config"] = configLayer,
            ["layers"] = layers,
        };
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(manifest) + "\n");
        if (File.Exists(manifestPath) && !force && !File.ReadAllBytes(manifestPath).AsSpan().SequenceEqual(bytes))
        {
            throw Errors.ModelExists(model.Id, "Ollama", plan.Name, manifestPath);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(manifestPath)!);
        WriteAtomically(manifestPath, bytes);
        return new ExportResult
        {
            ModelId = model.Id, To = Ollama, Name = plan.Name, Path = manifestPath, Linked = linked,
            Revision = "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(),
        };
    }

    async Task<ExportResult> ToHubCacheAsync(ExportPlan plan, CancellationToken cancellationToken)
    {
        var model = plan.Model;
        var repoFolder = Path.Combine(plan.Root, HuggingFaceCacheStore.RepoFolderName(plan.Name));
        var blobs = Path.Combine(repoFolder, "blobs");
        Directory.CreateDirectory(blobs);
        var entries = new List<(string Relative, string Etag)>();
        var linked = true;
        foreach (var (relative, source) in plan.Files)
        {
            ModelReference.CheckRelativePath(relative, model.Id);
            var sha = plan.Files.Count == 1 ? await VerifiedSha256Async(model, source, cancellationToken).ConfigureAwait(false) : await VerifiedFileSha256Async(model, relative, source, cancellationToken).ConfigureAwait(false);
            var etag = IsLfs(relative, new FileInfo(source).Length) ? sha : GitBlobSha1(source);
            linked &= await PlaceAsync(source, Path.Combine(blobs, etag), sha, cancellationToken).ConfigureAwait(false);
            entries.Add((relative, etag));
        }

        // A Hub model keeps its real commit; another model gets a stable one made from its files, so exporting again changes nothing.
        var commit = model.Revision is { Length: 40 } rev && rev.All(Uri.IsHexDigit) && model.Id.StartsWith(ModelReference.HubHost + "/", StringComparison.OrdinalIgnoreCase)
            ? rev.ToLowerInvariant()
            : Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(string.Join("\n", entries.Select(e => e.Relative + " " + e.Etag))))).ToLowerInvariant();
        var snapshot = Path.Combine(repoFolder, "snapshots", commit);
        foreach (var (relative, etag) in entries)
        {
            var pointer = Path.Combine(snapshot, relative.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
            // _create_symlink: relative to the link's folder, e.g. ../../blobs/<etag> (one more ../ per sub-folder).
            var target = Path.GetRelativePath(Path.GetDirectoryName(pointer)!, Path.Combine(blobs, etag));
            var temp = pointer + $".modellibrary-{Guid.NewGuid():N}.tmp";
            File.CreateSymbolicLink(temp, target);
            File.Move(temp, pointer, overwrite: true);
        }

        Directory.CreateDirectory(Path.Combine(repoFolder, "refs"));
        WriteAtomically(Path.Combine(repoFolder, "refs", "main"), Encoding.ASCII.GetBytes(commit));
        return new ExportResult { ModelId = model.Id, To = HuggingFaceCache, Name = plan.Name, Path = repoFolder, Linked = linked, Revision = commit };
    }

    /// <summary>The file's SHA-256, checked against the model's checksum when one is known (a damaged file is not handed on).</summary>
    static async Task<string> VerifiedSha256Async(ModelInfo model, string path, CancellationToken cancellationToken)
    {
        var sha = await Sha256Checksum.HexOfFileAsync(path, cancellationToken).ConfigureAwait(false);
        if (Sha256Checksum.Normalize(model.Checksum) is { } expected && !string.Equals(expected, "sha256:" + sha, StringComparison.OrdinalIgnoreCase))
        {
            throw Errors.ChecksumMismatch(
                $"'{model.Id}' does not match its checksum (expected {expected}, its file '{path}' hashes to sha256:{sha}); it was not exported.",
                model.Id, new Dictionary<string, object?> { ["model_id"] = model.Id, ["expected"] = expected, ["actual"] = "sha256:" + sha });
        }

        return sha;
    }

    /// <summary>One file of a multi-file model, checked against the checksum recorded for it at import, when there is one.</summary>
    static async Task<string> VerifiedFileSha256Async(ModelInfo model, string relative, string path, CancellationToken cancellationToken)
    {
        var sha = await Sha256Checksum.HexOfFileAsync(path, cancellationToken).ConfigureAwait(false);
        if (ModelValidator.FileChecksums(model) is { } recorded && recorded.TryGetValue(Path.GetFileName(relative), out var known)
            && Sha256Checksum.Normalize(known) is { } expected && !string.Equals(expected, "sha256:" + sha, StringComparison.OrdinalIgnoreCase))
        {
            throw Errors.ChecksumMismatch(path, expected, "sha256:" + sha, model.Id, "The model was not exported.");
        }

        return sha;
    }

    /// <summary>Puts the file at <paramref name="destination"/>: kept when already there whole, else a hard link, else a verified copy. True when it shares the source's bytes.</summary>
    static async Task<bool> PlaceAsync(string source, string destination, string sha, CancellationToken cancellationToken)
    {
        if (File.Exists(destination))
        {
            var same = FileLinks.IdentityOf(source) is { } a && FileLinks.IdentityOf(destination) is { } b && a.Device == b.Device && a.Inode == b.Inode;
            if (same || await Sha256Checksum.HexOfFileAsync(destination, cancellationToken).ConfigureAwait(false) == sha)
            {
                return same;
            }
        }

        if (FileLinks.TryLinkAtomically(source, destination))
        {
            return true;
        }

        await FileLinks.CopyVerifiedAsync(source, destination, sha, cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>A parameter count as Ollama shows it (<c>292.80K</c>, <c>1.10B</c>).</summary>
    static string ParameterLabel(long count) => count switch
    {
        >= 1_000_000_000 => (count / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (count / 1e6).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (count / 1e3).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "K",
        _ => count.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    static Dictionary<string, object> WriteSmallBlob(string root, byte[] bytes, string mediaType)
    {
        var sha = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        var path = OllamaStore.BlobPath(root, "sha256:" + sha)!;
        if (!File.Exists(path))
        {
            WriteAtomically(path, bytes);
        }

        return Layer(mediaType, "sha256:" + sha, bytes.Length);
    }

    static Dictionary<string, object> Layer(string mediaType, string digest, long size) =>
        new() { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };

    static void WriteAtomically(string path, byte[] bytes)
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".modellibrary-{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
    }

    static bool IsLfs(string relative, long size) => size >= LfsThreshold || LfsExtensions.Any(e => relative.EndsWith(e, StringComparison.OrdinalIgnoreCase));

    /// <summary>The git blob id (<c>sha1("blob &lt;size&gt;\0" + content)</c>), the ETag the Hub gives a file kept in git.</summary>
    static string GitBlobSha1(string path)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(Encoding.ASCII.GetBytes($"blob {new FileInfo(path).Length}\0"));
        using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            sha1.AppendData(buffer, 0, read);
        }

        return Convert.ToHexString(sha1.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>The name Ollama gets by default: a Hub reference as <c>ollama pull hf.co/...</c> stores it, else <c>&lt;id&gt;:latest</c>.</summary>
    static string DefaultOllamaName(ModelInfo model)
    {
        if (model.Id.StartsWith(ModelReference.HubHost + "/", StringComparison.OrdinalIgnoreCase) && ModelReference.Parse(model.Id) is { Owner: not null } hub && hub.FilePath is null)
        {
            return $"{ModelReference.HubHost}/{hub.Owner}/{hub.Repository}:{hub.Quantization ?? "latest"}";
        }

        return model.Id.Contains(':') || model.Id.Contains('/') ? model.Id : model.Id + ":latest";
    }

    /// <summary>[host/][namespace/]model[:tag], as types/model/name.go ParseName fills the defaults.</summary>
    static (string Host, string Namespace, string Model, string Tag) ParseOllamaName(string name, string modelId)
    {
        var slash = name.Split('/');
        var last = slash[^1];
        var colon = last.LastIndexOf(':');
        var model = colon > 0 ? last[..colon] : last;
        var tag = colon > 0 ? last[(colon + 1)..] : "latest";
        var (host, ns) = slash.Length switch
        {
            1 => (OllamaStore.DefaultHost, OllamaStore.DefaultNamespace),
            2 => (OllamaStore.DefaultHost, slash[0]),
            3 => (slash[0], slash[1]),
            _ => ("", ""),
        };
        if (slash.Length > 3 || !HostPart().IsMatch(host) || !NamePart().IsMatch(ns) || !NamePart().IsMatch(model) || !TagPart().IsMatch(tag))
        {
            throw Errors.InvalidModelId(name, modelId, "a name Ollama takes ([host/][namespace/]model[:tag]; letters, digits, '.', '_', '-')", "Give -Name as e.g. mymodel:latest or alice/mymodel:q4.");
        }

        return (host, ns, model, tag);
    }

    static string ParseRepoId(string name, string modelId)
    {
        var repo = name.StartsWith(ModelReference.HubHost + "/", StringComparison.OrdinalIgnoreCase) ? name[(ModelReference.HubHost.Length + 1)..] : name;
        var parts = repo.Split('/');
        if (parts.Length != 2 || !NamePart().IsMatch(parts[0]) || !NamePart().IsMatch(parts[1]) || repo.Contains("--", StringComparison.Ordinal))
        {
            throw Errors.InvalidModelId(name, modelId, "a Hub repository id (<owner>/<repo>; letters, digits, '.', '_', '-', no '--')", "Give -Name as <owner>/<repo>.");
        }

        return repo;
    }

    [GeneratedRegex("-\\d{5}-of-\\d{5}\\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitPart();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
    private static partial Regex NamePart();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]
    private static partial Regex TagPart();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*(:\\d{1,5})?$")]
    private static partial Regex HostPart();
}
