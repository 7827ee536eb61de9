using System.Text.RegularExpressions;

namespace ModelLibrary.Sources.Hub;

/// <summary>One model a repository holds: its files, the entry file, and its quantization (GGUF) or none (transformers).</summary>
public sealed record HubModelChoice(string? Quantization, string Format, string Provider, IReadOnlyList<HubTreeEntry> Files, HubTreeEntry? Entry, HubTreeEntry? Projector);

/// <summary>
/// Which files of a repository make which model, as the tools users know choose them: GGUF quantizations as
/// <c>ollama pull hf.co/...</c> and <c>llama-server -hf</c> do (a quantization matched case-insensitively in the file
/// names; split sets <c>-00001-of-0000N</c> are one model; an <c>mmproj</c> file goes with its model), and a
/// transformers model as <c>from_pretrained(folder)</c> reads it (weights in one format, index, config, tokenizer and
/// generation files; no <c>onnx/</c>, other formats, images or docs).
/// </summary>
public static partial class HubFileSelection
{
    public const string DefaultQuantization = "Q4_K_M";

    /// <summary>Each quantization's GGUF model (projectors aside), in file order.</summary>
    public static IReadOnlyList<HubModelChoice> GgufModels(IReadOnlyList<HubTreeEntry> tree)
    {
        var ggufs = tree.Where(e => e.Path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)).ToList();
        var projectors = ggufs.Where(IsProjector).ToList();
        var groups = new List<(string Key, string? Quant, List<HubTreeEntry> Files)>();
        foreach (var entry in ggufs.Except(projectors))
        {
            var stem = SplitSuffix().Replace(entry.FileName[..^".gguf".Length], "");
            var quant = QuantizationOf(stem);
            // A split set is one model: its parts share the name without -0000k-of-0000N, and their folder.
            var key = (entry.Path.Contains('/') ? entry.Path[..entry.Path.LastIndexOf('/')] : "") + "/" + (quant ?? stem).ToUpperInvariant();
            var group = groups.FirstOrDefault(g => g.Key == key);
            if (group.Files is null)
            {
                groups.Add((key, quant?.ToUpperInvariant(), new List<HubTreeEntry> { entry }));
            }
            else
            {
                group.Files.Add(entry);
            }
        }

        return groups.Select(g =>
        {
            var files = g.Files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
            var projector = ProjectorFor(projectors, g.Quant);
            if (projector is not null)
            {
                files.Add(projector);
            }

            return new HubModelChoice(g.Quant, "gguf", "llama-cpp", files, files[0], projector);
        }).ToList();
    }

    /// <summary>The GGUF model a reference asks for: its quantization, else Q4_K_M, else the only one; null when the quantization matches none.</summary>
    public static HubModelChoice? PickGguf(IReadOnlyList<HubModelChoice> models, string? quantization, out bool ambiguous)
    {
        ambiguous = false;
        if (quantization is not null)
        {
            return models.FirstOrDefault(m => string.Equals(m.Quantization, quantization, StringComparison.OrdinalIgnoreCase))
                // As ollama matches a tag in the file names: the one model whose entry file name contains it.
                ?? (models.Where(m => m.Entry!.FileName.Contains(quantization, StringComparison.OrdinalIgnoreCase)).ToList() is { Count: 1 } one ? one[0] : null);
        }

        if (models.FirstOrDefault(m => string.Equals(m.Quantization, DefaultQuantization, StringComparison.OrdinalIgnoreCase)) is { } preferred)
        {
            return preferred;
        }

        if (models.Count == 1)
        {
            return models[0];
        }

        ambiguous = models.Count > 1;
        return null;
    }

    /// <summary>The quantization a GGUF file name states (<c>...-Q4_K_M</c>, <c>....q8_0</c>, <c>-f16</c>, <c>-IQ3_XS</c>), upper-case; null when none.</summary>
    public static string? QuantizationOf(string stem)
    {
        var tokens = stem.Split('-', '.');
        for (var i = tokens.Length - 1; i >= 0; i--)
        {
            if (QuantToken().IsMatch(tokens[i]))
            {
                return tokens[i].ToUpperInvariant();
            }
        }

        return null;
    }

    static bool IsProjector(HubTreeEntry e) => e.FileName.Contains("mmproj", StringComparison.OrdinalIgnoreCase);

    /// <summary>The projector for a quantization: the one of the same quantization, else F16, else the first.</summary>
    static HubTreeEntry? ProjectorFor(List<HubTreeEntry> projectors, string? quant) =>
        projectors.FirstOrDefault(p => quant is not null && string.Equals(QuantizationOf(p.FileName[..^5]), quant, StringComparison.OrdinalIgnoreCase))
        ?? projectors.FirstOrDefault(p => string.Equals(QuantizationOf(p.FileName[..^5]), "F16", StringComparison.OrdinalIgnoreCase))
        ?? projectors.FirstOrDefault();

    /// <summary>
    /// The files a transformers model loads from its folder, or null when the repository holds no weights for it.
    /// safetensors win over pytorch <c>.bin</c>, as from_pretrained prefers them; only files at the top of the
    /// repository (subfolders are other formats: onnx/, gguf/, openvino/...).
    /// </summary>
    public static HubModelChoice? Transformers(IReadOnlyList<HubTreeEntry> tree)
    {
        var top = tree.Where(e => !e.Path.Contains('/')).ToList();
        var safetensors = top.Where(e => e.Path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)).ToList();
        var weights = safetensors.Count > 0
            ? safetensors.Concat(top.Where(e => e.Path.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))).ToList()
            : top.Where(e => PytorchWeights().IsMatch(e.Path)).ToList();
        if (!weights.Any(w => !w.Path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        var support = top.Where(e => !weights.Contains(e) && IsSupportFile(e.Path)).ToList();
        var files = support.Concat(weights).OrderBy(e => e.Path, StringComparer.Ordinal).ToList();
        var entry = files.FirstOrDefault(f => f.Path == "config.json");
        return new HubModelChoice(null, safetensors.Count > 0 ? "safetensors" : "pytorch", "transformers", files, entry, null);
    }

    /// <summary>Configuration, tokenizer, generation and processor files; not weights of another format, images, docs or code.</summary>
    static bool IsSupportFile(string name)
    {
        var lower = name.ToLowerInvariant();
        if (lower.EndsWith(".json", StringComparison.Ordinal))
        {
            return !lower.EndsWith(".index.json", StringComparison.Ordinal) || lower == "model.safetensors.index.json";
        }

        return lower is "tokenizer.model" or "spiece.model" or "sentencepiece.bpe.model" or "merges.txt" or "vocab.txt" or "chat_template.jinja"
            || lower.EndsWith(".tiktoken", StringComparison.Ordinal) || (lower.StartsWith("vocab.", StringComparison.Ordinal) && !lower.EndsWith(".md", StringComparison.Ordinal));
    }

    [GeneratedRegex("-\\d{5}-of-\\d{5}$")]
    private static partial Regex SplitSuffix();

    [GeneratedRegex("^(?i)(I?Q\\d(_[A-Z0-9]+)*|TQ\\d_\\d|BF16|F16|F32|FP16|FP32|MXFP4(_MOE)?)$")]
    private static partial Regex QuantToken();

    [GeneratedRegex("^pytorch_model(-\\d{5}-of-\\d{5})?\\.bin(\\.index\\.json)?$")]
    private static partial Regex PytorchWeights();
}
