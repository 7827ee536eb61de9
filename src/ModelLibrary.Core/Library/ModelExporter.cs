using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelLibrary.Sources.Stores;

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
        var files = Directory.Exists(local)
            ? Directory.EnumerateFiles(local, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
                .Select(f => (Path.GetRelativePath(local, f).Replace(Path.DirectorySeparatorChar, '/'), f)).ToList()
            : new List<(string, string)> { (Path.GetFileName(local), local) };
        if (string.Equals(to, Ollama, StringComparison.OrdinalIgnoreCase))
        {
            if (files.Count != 1 || Formats.ModelFileInspector.DetectFormat(local) != Formats.ModelFileFormat.Gguf || SplitPart().IsMatch(Path.GetFileName(local)))
            {
                throw Errors.InvalidModelFile(
                    $"Ollama runs a model of one GGUF file; '{model.Id}' is {(files.Count != 1 || SplitPart().IsMatch(Path.GetFileName(local)) ? "made of several files" : $"a {model.Format ?? "non-GGUF"} model")}.",
                    model.Id, new Dictionary<string, object?> { ["model_id"] = model.Id, ["path"] = local },
                    "Export a single-file GGUF model to Ollama, or -To HuggingFaceCache for transformers models.");
            }

            var ollamaRoot = Path.GetFullPath(root ?? OllamaStore.DefaultRoot());
            var parts = ParseOllamaName(name ?? DefaultOllamaName(model), model.Id);
            var display = OllamaStore.DisplayName(parts.Host, parts.Namespace, parts.Model, parts.Tag);
            return new ExportPlan(model, Ollama, ollamaRoot, display,
                $"Add '{display}' to Ollama's store '{ollamaRoot}' (blob hard-linked to '{local}' where the file system allows, else copied)", files, null);
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
        var layers = new List<Dictionary<string, object>> { Layer("application/vnd.ollama.image.model", "sha256:" + sha, new FileInfo(source).Length) };
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
            throw new ModelLibraryException(ErrorIds.ModelExists, ErrorKind.ResourceExists,
                $"Ollama already has a model named '{plan.Name}' ('{manifestPath}'); it was left as it is.",
                new Dictionary<string, object?> { ["name"] = plan.Name, ["path"] = manifestPath },
                new[] { "Give another -Name, or -Force to replace it." }, model.Id);
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
            var sha = plan.Files.Count == 1 ? await VerifiedSha256Async(model, source, cancellationToken).ConfigureAwait(false) : await FileLinks.Sha256HexAsync(source, cancellationToken).ConfigureAwait(false);
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
        var sha = await FileLinks.Sha256HexAsync(path, cancellationToken).ConfigureAwait(false);
        if (Sha256Checksum.Normalize(model.Checksum) is { } expected && !string.Equals(expected, "sha256:" + sha, StringComparison.OrdinalIgnoreCase))
        {
            throw Errors.ChecksumMismatch(
                $"'{model.Id}' does not match its checksum (expected {expected}, its file '{path}' hashes to sha256:{sha}); it was not exported.",
                model.Id, new Dictionary<string, object?> { ["model_id"] = model.Id, ["expected"] = expected, ["actual"] = "sha256:" + sha });
        }

        return sha;
    }

    /// <summary>Puts the file at <paramref name="destination"/>: kept when already there whole, else a hard link, else a verified copy. True when it shares the source's bytes.</summary>
    static async Task<bool> PlaceAsync(string source, string destination, string sha, CancellationToken cancellationToken)
    {
        if (File.Exists(destination))
        {
            var same = FileLinks.IdentityOf(source) is { } a && FileLinks.IdentityOf(destination) is { } b && a.Device == b.Device && a.Inode == b.Inode;
            if (same || await FileLinks.Sha256HexAsync(destination, cancellationToken).ConfigureAwait(false) == sha)
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
            throw new ModelLibraryException(ErrorIds.InvalidModelId, ErrorKind.InvalidArgument,
                $"'{name}' is not a name Ollama takes ([host/][namespace/]model[:tag]; letters, digits, '.', '_', '-').",
                new Dictionary<string, object?> { ["name"] = name }, new[] { "Give -Name as e.g. mymodel:latest or alice/mymodel:q4." }, modelId);
        }

        return (host, ns, model, tag);
    }

    static string ParseRepoId(string name, string modelId)
    {
        var repo = name.StartsWith(ModelReference.HubHost + "/", StringComparison.OrdinalIgnoreCase) ? name[(ModelReference.HubHost.Length + 1)..] : name;
        var parts = repo.Split('/');
        if (parts.Length != 2 || !NamePart().IsMatch(parts[0]) || !NamePart().IsMatch(parts[1]) || repo.Contains("--", StringComparison.Ordinal))
        {
            throw new ModelLibraryException(ErrorIds.InvalidModelId, ErrorKind.InvalidArgument,
                $"'{name}' is not a Hub repository id (<owner>/<repo>; letters, digits, '.', '_', '-', no '--').",
                new Dictionary<string, object?> { ["name"] = name }, new[] { "Give -Name as <owner>/<repo>." }, modelId);
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
