using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelLibrary;

/// <summary>
/// The one rule for model ids and provider names (they become folder names), and how a name from a source is echoed
/// in a message. Below every other namespace, so the catalog, the engine and the library share it.
/// </summary>
public static partial class ModelNames
{
    /// <summary>The rule for ids and provider names, as messages state it.</summary>
    public const string NameRule = "letters, digits, '.', '_' and '-', starting with a letter or digit; no '..', no path separators, no control characters";

    /// <summary>
    /// Model ids become folder names, so they are held to a safe alphabet: no control character (a newline made a
    /// folder with a newline in its name), no separator, no <c>..</c>.
    /// </summary>
    public static bool IsValidId(string id) => id.Length <= 200 && SafeId().IsMatch(id) && !id.Contains("..", StringComparison.Ordinal);

    /// <summary>Provider names name folders too (<c>&lt;root&gt;/&lt;provider&gt;</c>): the same rule, at most 64 characters.</summary>
    public static bool IsValidProviderName(string name) => name.Length <= 64 && SafeId().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    /// <summary>
    /// A name from a source, fit to print in a message: control and invisible formatting characters (a right-to-left
    /// override would reorder the rest of the line) shown as <c>\u{XXXX}</c>, and at most <paramref name="max"/>
    /// characters with the full length said.
    /// </summary>
    public static string Echo(string? text, int max = 60)
    {
        if (text is null)
        {
            return "";
        }

        var builder = new System.Text.StringBuilder();
        var shown = 0;
        foreach (var c in text)
        {
            if (shown == max)
            {
                builder.Append($"… ({text.Length} characters)");
                break;
            }

            if (char.IsControl(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.LineSeparator or System.Globalization.UnicodeCategory.ParagraphSeparator)
            {
                builder.Append($"\\u{{{(int)c:X4}}}");
            }
            else
            {
                builder.Append(c);
            }

            shown++;
        }

        return builder.ToString();
    }

    /// <summary>
    /// The folder a model's files live in, inside its provider folder: the id itself for a catalog id; a reference
    /// (<c>hf.co/Qwen/Repo:Q4_K_M</c>, <c>registry:5000/ns/repo:tag</c>) with each <c>/</c>, <c>:</c> and <c>@</c> written
    /// <c>--</c> (as the Hub's own cache writes <c>models--owner--repo</c>; Hub names never contain <c>--</c>), so one
    /// model is one folder directly under the provider folder. Anything still unsafe gets <see cref="FileKey"/>.
    /// </summary>
    public static string FolderName(string modelId)
    {
        // An id that is a path out of the folder stays as written, for the containment check to refuse (never renamed into safety).
        if (IsValidId(modelId) || Path.IsPathRooted(modelId) || modelId.Split('/', '\\').Any(s => s is "." or ".."))
        {
            return modelId;
        }

        var joined = string.Join("--", modelId.Split('/', ':', '@'));
        return IsValidId(joined) && !joined.Split("--").Any(s => s is "" or "." or "..") ? joined : FileKey(modelId);
    }


    /// <summary>
    /// A file name for a model id: the id itself when it is plain lower-case, else a cleaned form plus a short
    /// hash, so different ids never share a file, also on case-insensitive file systems.
    /// </summary>
    public static string FileKey(string modelId)
    {
        if (PlainId().IsMatch(modelId))
        {
            return modelId;
        }

        var cleaned = UnsafeChars().Replace(modelId.ToLowerInvariant(), "_");
        if (cleaned.Length > 80)
        {
            cleaned = cleaned[..80];
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(modelId)))[..10].ToLowerInvariant();
        return $"{cleaned}-{hash}";
    }

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}\z")]
    private static partial Regex PlainId();

    [GeneratedRegex("[^a-z0-9._-]")]
    private static partial Regex UnsafeChars();

    // \z, not $: '$' also matches before a final newline.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\z")]
    private static partial Regex SafeId();
}
