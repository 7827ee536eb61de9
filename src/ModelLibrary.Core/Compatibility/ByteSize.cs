using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Reads and writes sizes as people write them. Units are binary, as in PowerShell (<c>1GB</c> = 1024³ bytes):
/// catalogs write "~1GB" loosely, and reading it as the larger binary value errs on the safe side.
/// </summary>
public static partial class ByteSize
{
    [GeneratedRegex(@"^\s*~?\s*(?<n>\d+(?:\.\d+)?)\s*(?<u>[KMGTP]?i?B?)?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();

    /// <summary>Parses "~1GB", "1.5 GB", "800MB", "8GiB", "1073741824"; null when the text is not a size.</summary>
    public static long? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var match = SizePattern().Match(text);
        if (!match.Success)
        {
            return null;
        }

        var number = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        var unit = match.Groups["u"].Value.ToUpperInvariant();
        var multiplier = unit.Length == 0 ? 1.0 : unit[0] switch
        {
            'K' => 1024.0,
            'M' => 1024.0 * 1024,
            'G' => 1024.0 * 1024 * 1024,
            'T' => 1024.0 * 1024 * 1024 * 1024,
            'P' => 1024.0 * 1024 * 1024 * 1024 * 1024,
            _ => 1.0, // "B"
        };
        return (long)Math.Round(number * multiplier);
    }

    /// <summary>"1.2 GB", "350 MB", "12 KB", "800 B" (binary units).</summary>
    public static string Format(long bytes)
    {
        string[] units = { "B", "KB", "MB", "GB", "TB", "PB" };
        double value = bytes;
        var unit = 0;
        while (Math.Abs(value) >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B")
            : string.Create(CultureInfo.InvariantCulture, $"{value:0.0#} {units[unit]}");
    }
}

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
}
