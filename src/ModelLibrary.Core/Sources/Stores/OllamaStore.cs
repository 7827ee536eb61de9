using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelLibrary.Sources.Stores;

/// <summary>
/// Ollama's model store, read as Ollama's own code lays it out (ollama/ollama manifest/paths.go, manifest/manifest.go,
/// types/model/name.go): <c>manifests/&lt;host&gt;/&lt;namespace&gt;/&lt;model&gt;/&lt;tag&gt;</c> (Docker v2 schema 2 JSON),
/// <c>blobs/sha256-&lt;hex&gt;</c>. Each manifest with a model layer is one model, named as <c>ollama list</c> names it
/// (Name.DisplayShortest: <c>&lt;model&gt;:&lt;tag&gt;</c> for registry.ollama.ai/library); its file is the model blob.
/// </summary>
public sealed partial class OllamaStore : ExternalStoreSource
{
    public const string DefaultHost = "registry.ollama.ai";
    public const string DefaultNamespace = "library";
    public const string ModelMediaType = "application/vnd.ollama.image.model";
    public const string ProjectorMediaType = "application/vnd.ollama.image.projector";
    /// <summary>Small layers read for metadata; anything larger is named, not read.</summary>
    const long MaxTextLayer = 256 * 1024;

    public OllamaStore(string name, string root) : base(name, root) { }

    public override string Tool => "Ollama";

    /// <summary>
    /// Where Ollama keeps models: <c>$OLLAMA_MODELS</c> (envconfig.Models), else <c>~/.ollama/models</c>, else the Linux
    /// service's <c>/usr/share/ollama/.ollama/models</c> when only that one exists.
    /// </summary>
    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("OLLAMA_MODELS") is { Length: > 0 } set)
        {
            return set;
        }

        var user = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".ollama", "models");
        const string service = "/usr/share/ollama/.ollama/models";
        return !Directory.Exists(user) && !OperatingSystem.IsWindows() && Directory.Exists(service) ? service : user;
    }

    /// <summary>The name <c>ollama list</c> shows for a manifest path's four parts.</summary>
    public static string DisplayName(string host, string ns, string model, string tag) =>
        !string.Equals(host, DefaultHost, StringComparison.OrdinalIgnoreCase) ? $"{host}/{ns}/{model}:{tag}"
        : !string.Equals(ns, DefaultNamespace, StringComparison.OrdinalIgnoreCase) ? $"{ns}/{model}:{tag}"
        : $"{model}:{tag}";

    /// <summary>The blob file of a digest (<c>sha256:&lt;hex&gt;</c>); null when the digest is not a SHA-256 (manifest.BlobsPath refuses those too).</summary>
    public static string? BlobPath(string root, string? digest) =>
        digest is not null && Digest().IsMatch(digest) ? Path.Combine(root, "blobs", "sha256-" + digest[7..].ToLowerInvariant()) : null;

    protected override IEnumerable<ModelInfo> Scan(List<string> warnings, CancellationToken cancellationToken)
    {
        var manifests = Path.Combine(Root, "manifests");
        if (!Directory.Exists(manifests))
        {
            yield break;
        }

        // As manifest.Manifests globs manifests/*/*/*/*: exactly four levels, files only.
        foreach (var file in Directory.EnumerateFiles(manifests, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var parts = Path.GetRelativePath(manifests, file).Split(Path.DirectorySeparatorChar);
            if (parts.Length != 4 || parts.Any(p => p.StartsWith('.')))
            {
                continue;
            }

            var name = DisplayName(parts[0], parts[1], parts[2], parts[3]);
            var model = Read(file, name, parts, warnings);
            if (model is not null)
            {
                yield return model;
            }
        }
    }

    ModelInfo? Read(string manifestPath, string name, string[] parts, List<string> warnings)
    {
        byte[] bytes;
        JsonElement root;
        try
        {
            bytes = File.ReadAllBytes(manifestPath);
            root = JsonDocument.Parse(bytes).RootElement;
        }
        catch (JsonException e)
        {
            warnings.Add(Skip($"'{name}'", $"its manifest '{manifestPath}' is not complete JSON ({e.Message}); a pull may be writing it"));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warnings.Add(Skip($"'{name}'", $"its manifest '{manifestPath}' cannot be read ({e.Message})"));
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            warnings.Add(Skip($"'{name}'", $"its manifest '{manifestPath}' has no layers"));
            return null;
        }

        var layerList = layers.EnumerateArray().Where(l => l.ValueKind == JsonValueKind.Object).Select(Layer.From).ToList();
        var modelLayer = layerList.FirstOrDefault(l => l.MediaType == ModelMediaType);
        if (modelLayer is null)
        {
            // Safetensors tensor layers, cloud models: nothing this library can read as one file.
            return null;
        }

        var blob = BlobPath(Root, modelLayer.Digest);
        if (blob is null)
        {
            warnings.Add(Skip($"'{name}'", $"its model layer's digest '{modelLayer.Digest}' is not sha256:<64 hex digits>"));
            return null;
        }

        if (Resolve(blob, Root, out var why) is not { } real)
        {
            warnings.Add(Skip($"'{name}'", $"its model blob '{blob}': {why}"));
            return null;
        }

        var length = new FileInfo(real).Length;
        if (modelLayer.Size is { } declared && declared != length)
        {
            warnings.Add(Skip($"'{name}'", $"its model blob '{blob}' has {length} bytes, the manifest says {declared} (a pull in progress, or a damaged blob)"));
            return null;
        }

        var model = new ModelInfo
        {
            Id = name,
            Name = name,
            Provider = Compatibility.BuiltInProviders.Ollama,
            Format = "gguf",
            Size = length,
            DiskUsage = length,
            LocalPath = blob,
            FileName = Path.GetFileName(blob),
            Checksum = "sha256:" + modelLayer.Digest![7..].ToLowerInvariant(),
            Revision = "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(),
            DownloadDate = File.GetLastWriteTimeUtc(manifestPath),
            Description = $"In Ollama's store ({parts[0]}/{parts[1]}/{parts[2]}:{parts[3]}).",
            Capabilities = new[] { "text-generation" },
        };
        model.AdditionalProperties["ollama_manifest"] = manifestPath;
        if (root.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object)
        {
            ReadConfig(Layer.From(config), model);
        }

        foreach (var layer in layerList)
        {
            ReadLayer(layer, model, name, warnings);
        }

        return model;
    }

    /// <summary>The config blob (types/model/config.go ConfigV2): model_format, model_family, model_type, file_type.</summary>
    void ReadConfig(Layer layer, ModelInfo model)
    {
        if (ReadText(layer) is not { } text)
        {
            return;
        }

        try
        {
            var config = JsonDocument.Parse(text).RootElement;
            string? Get(string key) => config.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;
            model.Format = Get("model_format") ?? model.Format;
            model.Metadata.Architecture = Get("model_family");
            model.Metadata.Parameters = Get("model_type");
            model.Metadata.Quantization = Get("file_type");
        }
        catch (JsonException)
        {
            // A config that does not parse leaves the values to be read from the GGUF header.
        }
    }

    /// <summary>Template, system, params, license and projector layers, as server/images.go GetModel reads them.</summary>
    void ReadLayer(Layer layer, ModelInfo model, string name, List<string> warnings)
    {
        var kind = layer.MediaType?.StartsWith("application/vnd.ollama.image.", StringComparison.Ordinal) == true ? layer.MediaType[29..].Split(';')[0] : null;
        switch (kind)
        {
            case "template" or "prompt":
                model.AdditionalProperties["template"] = ReadText(layer);
                model.Capabilities = new[] { "text-generation", "chat" };
                break;
            case "system":
                model.AdditionalProperties["system"] = ReadText(layer);
                break;
            case "params":
                // The JSON as Ollama stores it (stop words, temperature, ...): ConvertFrom-Json reads it.
                model.AdditionalProperties["params"] = ReadText(layer);
                break;
            case "license":
                if (ReadText(layer) is { } license)
                {
                    // The first line names the licence (e.g. "Apache License"); the whole text stays beside it.
                    model.Metadata.License ??= license.Trim().Split('\n')[0].Trim();
                    model.AdditionalProperties["license_text"] = license;
                }

                break;
            case "projector":
                string? why = null;
                if (BlobPath(Root, layer.Digest) is { } projector && Resolve(projector, Root, out why) is not null)
                {
                    model.AdditionalProperties["projector"] = projector;
                    model.Capabilities = model.Capabilities.Append("vision").Distinct().ToArray();
                }
                else
                {
                    warnings.Add($"Source '{Name}' (Ollama): the projector of '{name}' is missing ({why ?? layer.Digest}); the model is listed without it.");
                }

                break;
        }
    }

    string? ReadText(Layer layer)
    {
        if (BlobPath(Root, layer.Digest) is not { } path || Resolve(path, Root, out _) is not { } real || new FileInfo(real).Length > MaxTextLayer)
        {
            return null;
        }

        try
        {
            return File.ReadAllText(real);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    sealed record Layer(string? MediaType, string? Digest, long? Size)
    {
        public static Layer From(JsonElement e) => new(
            e.TryGetProperty("mediaType", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null,
            e.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null,
            e.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null);
    }

    [GeneratedRegex("^sha256[:-][0-9a-fA-F]{64}$")]
    private static partial Regex Digest();
}
