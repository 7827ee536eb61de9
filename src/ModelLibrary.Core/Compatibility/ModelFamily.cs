using System.Text.RegularExpressions;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Groups the variants of one model: "tinyllama-1.1b-chat-q4", "-q8" and "-safetensors" are the same model in
/// different quantizations or formats. Two models are one family when their ids (or names) agree once the
/// quantization/format part is removed, and their parameters and architecture do not contradict each other.
/// </summary>
public static partial class ModelFamily
{
    // A quantization or format token; in an id it starts the variant suffix ("-q4_k_m-bartowski"), so it and
    // everything after it (the publisher, usually) are dropped.
    [GeneratedRegex(@"^(i?q\d+(_[a-z0-9]+)*|f16|f32|bf16|fp16|fp32|int[48]|gguf|ggml|safetensors|pytorch|awq|gptq)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex VariantToken();

    [GeneratedRegex(@"\([^)]*\)")]
    private static partial Regex Parenthesized();

    /// <summary>
    /// The id without its variant suffix: "llama-3.2-1b-instruct-q4_k_m-bartowski" → "llama-3.2-1b-instruct";
    /// "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M" → "hf.co/bartowski/llama-3.2-1b-instruct".
    /// </summary>
    public static string IdKey(string id)
    {
        // A model reference names its quantization after a colon ("hf.co/<owner>/<repo>:Q4_K_M"): the repository is the family.
        var colon = id.LastIndexOf(':');
        if (colon > 0 && VariantToken().IsMatch(id[(colon + 1)..]))
        {
            id = id[..colon];
        }

        var tokens = id.ToLowerInvariant().Split('-');
        var cut = Array.FindIndex(tokens, t => VariantToken().IsMatch(t));
        return string.Join("-", cut <= 0 ? tokens : tokens[..cut]);
    }

    /// <summary>The name without quantization words: "TinyLlama 1.1B Chat v1.0 (Q4_K_M)" → "tinyllama 1.1b chat v1.0".</summary>
    public static string NameKey(string name)
    {
        var tokens = Parenthesized().Replace(name, " ").ToLowerInvariant()
            .Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)
            .Where(t => !VariantToken().IsMatch(t.Trim('(', ')', ',', '.')));
        return string.Join(" ", tokens);
    }

    public static bool SameFamily(ModelInfo a, ModelInfo b)
    {
        if (!Agree(a.Metadata?.Parameters, b.Metadata?.Parameters) || !Agree(a.Metadata?.Architecture, b.Metadata?.Architecture))
        {
            return false;
        }

        if (IdKey(a.Id) == IdKey(b.Id))
        {
            return true;
        }

        var nameA = NameKey(a.Name ?? "");
        return nameA.Length > 0 && nameA == NameKey(b.Name ?? "");
    }

    // Unknown on either side does not contradict.
    static bool Agree(string? x, string? y) =>
        string.IsNullOrWhiteSpace(x) || string.IsNullOrWhiteSpace(y) || string.Equals(x.Trim(), y.Trim(), StringComparison.OrdinalIgnoreCase);
}
