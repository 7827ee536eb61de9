using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelLibrary.Compatibility;


/// <summary>Parameter-count labels as catalogs write them: "1.1B", "137M", "8x7B", "1.5T".</summary>
public static partial class ParameterCount
{
    [GeneratedRegex(@"^\s*(?:(?<experts>\d+)\s*x\s*)?(?<n>\d+(?:\.\d+)?)\s*(?<u>[KMBT])?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex LabelPattern();

    /// <summary>The parameter count, or null when the label is not one.</summary>
    public static long? TryParse(string? label)
    {
        if (string.IsNullOrWhiteSpace(label))
        {
            return null;
        }

        var match = LabelPattern().Match(label);
        if (!match.Success)
        {
            return null;
        }

        var number = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        var multiplier = match.Groups["u"].Value.ToUpperInvariant() switch
        {
            "K" => 1e3,
            "M" => 1e6,
            "B" => 1e9,
            "T" => 1e12,
            _ => 1.0,
        };
        // "8x7B" counts every expert: all of them sit in memory even though only some run per token.
        var experts = match.Groups["experts"].Success ? int.Parse(match.Groups["experts"].Value, CultureInfo.InvariantCulture) : 1;
        return (long)Math.Round(number * multiplier * experts);
    }

    /// <summary>The expert count of a MoE label ("8x7B" → 8); null for a dense label.</summary>
    public static int? TryParseExperts(string? label)
    {
        if (string.IsNullOrWhiteSpace(label))
        {
            return null;
        }

        var match = LabelPattern().Match(label);
        return match.Success && match.Groups["experts"].Success ? int.Parse(match.Groups["experts"].Value, CultureInfo.InvariantCulture) : null;
    }
}
