using System.Text.RegularExpressions;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Bits each weight takes on disk and in memory for the usual quantization types. The K-quant and i-quant values are
/// the effective averages llama.cpp reports for Llama-7B-class models (block scales included), so they predict file
/// sizes well: TinyLlama 1.1B at Q4_K_M, 1.1e9 × 4.85 / 8 ≈ 667 MB, against a 669 MB file.
/// </summary>
public static partial class Quantization
{
    static readonly Dictionary<string, double> BitsPerWeightTable = new(StringComparer.OrdinalIgnoreCase)
    {
        ["F32"] = 32, ["FP32"] = 32,
        ["F16"] = 16, ["FP16"] = 16, ["BF16"] = 16,
        ["Q8_0"] = 8.5, ["Q8_K"] = 8.5, ["FP8"] = 8, ["INT8"] = 8,
        ["Q6_K"] = 6.56,
        ["Q5_1"] = 6.0, ["Q5_K_M"] = 5.69, ["Q5_K"] = 5.69, ["Q5_K_S"] = 5.54, ["Q5_0"] = 5.5,
        ["Q4_1"] = 5.0, ["Q4_K_M"] = 4.85, ["Q4_K"] = 4.85, ["Q4_K_S"] = 4.58, ["Q4_0"] = 4.55,
        ["IQ4_NL"] = 4.5, ["IQ4_XS"] = 4.25, ["GPTQ"] = 4.25, ["AWQ"] = 4.25, ["INT4"] = 4,
        ["Q3_K_L"] = 4.27, ["Q3_K_M"] = 3.91, ["Q3_K"] = 3.91, ["IQ3_M"] = 3.66, ["IQ3_S"] = 3.44, ["Q3_K_S"] = 3.5,
        ["IQ3_XS"] = 3.3, ["IQ3_XXS"] = 3.06,
        ["Q2_K"] = 3.35, ["Q2_K_S"] = 2.97, ["IQ2_M"] = 2.7, ["IQ2_S"] = 2.5, ["IQ2_XS"] = 2.31, ["IQ2_XXS"] = 2.06,
        ["IQ1_M"] = 1.75, ["IQ1_S"] = 1.56,
    };

    /// <summary>Unquantized checkpoints (safetensors, PyTorch) are assumed to be 16-bit, as nearly all published ones are.</summary>
    public const double UnquantizedBitsPerWeight = 16;

    /// <summary>The quantization types the table knows.</summary>
    public static IReadOnlyCollection<string> Known => BitsPerWeightTable.Keys;

    /// <summary>Bits per weight for a quantization name (any case), or null when unknown.</summary>
    public static double? BitsPerWeight(string? quantization) =>
        quantization is not null && BitsPerWeightTable.TryGetValue(quantization.Trim(), out var bits) ? bits : null;

    // Quantization names as they appear inside file names, e.g. "tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf".
    [GeneratedRegex(@"(?<![A-Za-z0-9])(?<q>I?Q\d_[A-Z0-9]+(?:_[A-Z0-9]+)?|BF16|F16|F32|FP16|FP32)(?![A-Za-z0-9])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EmbeddedQuantization();

    // A bare level ("-q4", ".q8") as short ids and some file names write it.
    [GeneratedRegex(@"(?<![A-Za-z0-9])q(?<level>[2-8])(?![A-Za-z0-9_])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BareLevel();

    // What a bare level usually means: the K-quant most publishers ship at that level ("q4" is almost always Q4_K_M).
    static readonly Dictionary<string, string> BareLevels = new()
    {
        ["2"] = "Q2_K", ["3"] = "Q3_K_M", ["4"] = "Q4_K_M", ["5"] = "Q5_K_M", ["6"] = "Q6_K", ["8"] = "Q8_0",
    };

    /// <summary>
    /// Finds a known quantization name inside a file name or id, upper-cased; failing that, reads a bare level
    /// ("q4") as its usual K-quant; null when neither.
    /// </summary>
    public static string? FindIn(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        foreach (Match match in EmbeddedQuantization().Matches(text))
        {
            var name = match.Groups["q"].Value.ToUpperInvariant();
            if (BitsPerWeightTable.ContainsKey(name))
            {
                return name;
            }
        }

        var bare = BareLevel().Match(text);
        return bare.Success && BareLevels.TryGetValue(bare.Groups["level"].Value, out var usual) ? usual : null;
    }
}
