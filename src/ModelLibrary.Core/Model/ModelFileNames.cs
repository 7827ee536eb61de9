using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelLibrary;

/// <summary>
/// The one vocabulary of model files by name: which extensions are which format, which formats hold weights or
/// pickles, which provider a format lands with by default, how split parts and shards are named, which id a file
/// or folder name suggests, and which file name a URL gives. The readers in Formats/ tell what a file is by its
/// bytes; this tells what its name claims.
/// </summary>
public static partial class ModelFileNames
{
    // Format names, as catalogs, the registry and ModelInfo.Format spell them.
    public const string Gguf = "gguf";
    public const string Ggml = "ggml";
    public const string Safetensors = "safetensors";
    /// <summary>Pickle-based files: torch zip archives, torch's legacy formats, plain pickles.</summary>
    public const string PyTorch = "pytorch";
    public const string Onnx = "onnx";

    // The providers that have a folder of their own (LLAMA_CPP_MODELS_DIR, TRANSFORMERS_MODELS_DIR).
    public const string LlamaCpp = "llama-cpp";
    public const string Transformers = "transformers";

    /// <summary>The name of a sharded safetensors model's index ends in this (<c>model.safetensors.index.json</c>).</summary>
    public const string ShardIndexSuffix = ".safetensors.index.json";

    /// <summary>Extensions of pickle-based files, which are scanned before they are trusted.</summary>
    public static IReadOnlyList<string> PickleExtensions { get; } = new[] { ".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle" };

    /// <summary>Extensions of files that hold model weights: GGUF, safetensors and the pickle-based ones.</summary>
    public static IReadOnlyList<string> WeightExtensions { get; } = new[] { ".gguf", ".safetensors" }.Concat(PickleExtensions).ToArray();

    /// <summary>The format a file name claims by its extension (lower case), or null when it names none.</summary>
    public static string? FormatOf(string? fileName)
    {
        var extension = Path.GetExtension(fileName ?? "").ToLowerInvariant();
        return extension switch
        {
            ".gguf" => Gguf,
            ".ggml" => Ggml,
            ".safetensors" => Safetensors,
            ".onnx" => Onnx,
            _ when PickleExtensions.Contains(extension) => PyTorch,
            _ => null,
        };
    }

    /// <summary>Whether the name has the extension of a weight file (GGUF, safetensors, pickle-based).</summary>
    public static bool HasWeightExtension(string path) => WeightExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>A weight file, or a sharded safetensors model's index.</summary>
    public static bool IsWeightFile(string path) => HasWeightExtension(path) || IsShardIndex(path);

    public static bool IsShardIndex(string path) => path.EndsWith(ShardIndexSuffix, StringComparison.OrdinalIgnoreCase);

    public static bool IsPickle(string path) => PickleExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>The provider a model of this format lands with when nothing else says: gguf → llama-cpp; safetensors, pytorch → transformers.</summary>
    public static string? DefaultProvider(string? format) => format?.ToLowerInvariant() switch
    {
        Gguf => LlamaCpp,
        Safetensors or PyTorch => Transformers,
        _ => null,
    };

    /// <summary>
    /// Split parts and shards are named <c>{stem}-00001-of-00003.{ext}</c>: llama.cpp's gguf-split
    /// ("%s-%05d-of-%05d.gguf") and Hugging Face's sharded safetensors alike, always five digits.
    /// </summary>
    [GeneratedRegex(@"^(?<stem>.+)-(?<index>\d{5})-of-(?<count>\d{5})$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PartSuffix();

    /// <summary>
    /// Parses a split part's name (any extension) into its path without the part suffix and extension, its
    /// 1-based number and the count; false for a name that is not a part's, or numbers out of range.
    /// </summary>
    public static bool TryParsePart(string path, out string prefix, out int partNumber, out int partCount)
    {
        ArgumentNullException.ThrowIfNull(path);
        (prefix, partNumber, partCount) = ("", 0, 0);
        var match = PartSuffix().Match(Path.GetFileNameWithoutExtension(path));
        if (!match.Success
            || !int.TryParse(match.Groups["index"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out partNumber)
            || !int.TryParse(match.Groups["count"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out partCount)
            || partCount < 1 || partNumber < 1 || partNumber > partCount)
        {
            (partNumber, partCount) = (0, 0);
            return false;
        }

        prefix = Path.Combine(Path.GetDirectoryName(path) ?? "", match.Groups["stem"].Value);
        return true;
    }

    /// <summary>The name of part <paramref name="partNumber"/> of <paramref name="partCount"/>: <c>{prefix}-0000i-of-0000N{extension}</c>.</summary>
    public static string PartName(string prefix, int partNumber, int partCount, string extension) =>
        string.Create(CultureInfo.InvariantCulture, $"{prefix}-{partNumber:D5}-of-{partCount:D5}{extension}");

    /// <summary>A file name without its extension, shard-index suffix, or part suffix: what names the model.</summary>
    public static string Stem(string fileName)
    {
        var name = Path.GetFileName(fileName);
        name = IsShardIndex(name) ? name[..^ShardIndexSuffix.Length] : Path.GetFileNameWithoutExtension(name);
        return PartSuffix().Match(name) is { Success: true } part ? part.Groups["stem"].Value : name;
    }

    /// <summary>
    /// File names too generic to name a model (model.safetensors, pytorch_model.bin, ...): the folder names it instead.
    /// </summary>
    static readonly string[] GenericStems = { "model", "pytorch_model", "diffusion_pytorch_model", "consolidated", "weights", "ggml-model" };

    /// <summary>
    /// The id a path suggests: a folder's name; for a file, its <see cref="Stem"/>, or its folder's name when the stem
    /// is generic. Lower case, letters, digits, '.', '_' and '-' only, at most 200 characters.
    /// </summary>
    public static string IdFromPath(string path, string fallback)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Directory.Exists(full))
        {
            return IdFromName(Path.GetFileName(full), fallback);
        }

        var name = Stem(full);
        if (GenericStems.Contains(name, StringComparer.OrdinalIgnoreCase) && Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } folder)
        {
            name = folder;
        }

        return IdFromName(name, fallback);
    }

    /// <summary>A name made into an id: lower case, runs of other characters become '-', no leading or trailing '-', '.', '_'.</summary>
    public static string IdFromName(string name, string fallback)
    {
        var id = InvalidIdCharacters().Replace(name.ToLowerInvariant(), "-").Trim('-', '.', '_');
        if (id.Length > 200)
        {
            id = id[..200].TrimEnd('-', '.', '_');
        }

        return id.Length == 0 ? fallback : id;
    }

    [GeneratedRegex("[^a-z0-9._-]+")]
    private static partial Regex InvalidIdCharacters();

    /// <summary>The file name a download URL gives: its last path segment, unescaped; <paramref name="fallback"/> when it has none.</summary>
    public static string FromUrl(string url, string fallback = "model.bin")
    {
        var path = Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.AbsolutePath : url.Split('?', '#')[0];
        var name = Uri.UnescapeDataString(path.TrimEnd('/').Split('/').LastOrDefault() ?? "").Trim('/');
        return string.IsNullOrWhiteSpace(name) ? fallback : name;
    }
}
