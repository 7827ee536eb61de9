using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelLibrary;

/// <summary>Sizes in human units for views and messages (binary multiples, written KB/MB/GB as most tools do).</summary>
public static partial class ByteSize
{
    [GeneratedRegex(@"^\s*~?\s*(?<n>\d+(?:\.\d+)?)\s*(?<u>[KMGTP]?i?B?)?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SizePattern();

    static readonly string[] Units = { "B", "KB", "MB", "GB", "TB", "PB" };

    /// <summary><c>668788096</c> → <c>637.8 MB</c>; null → empty.</summary>
    public static string Format(long? bytes)
    {
        if (bytes is not { } value)
        {
            return "";
        }

        double size = value;
        var unit = 0;
        while (Math.Abs(size) >= 1024 && unit < Units.Length - 1)
        {
            size /= 1024;
            unit++;
        }

        return unit == 0 ? $"{value} B" : size.ToString("0.0", CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>Bytes per second as <c>12.3 MB/s</c>.</summary>
    public static string Rate(double? bytesPerSecond) => bytesPerSecond is { } r ? Format((long)r) + "/s" : "";

    /// <summary>
    /// Parses sizes as people write them ("~1GB", "1.5 GB", "800MB", "8GiB", "1073741824"); null when the text is
    /// not a size. Units are binary, as in PowerShell: catalogs write "~1GB" loosely, and reading it as the larger
    /// binary value errs on the safe side.
    /// </summary>
    public static long? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || SizePattern().Match(text) is not { Success: true } match)
        {
            return null;
        }

        var number = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        var unit = match.Groups["u"].Value.ToUpperInvariant();
        var power = unit.Length == 0 ? 0 : "BKMGTP".IndexOf(unit[0]);
        return (long)Math.Round(number * Math.Pow(1024, Math.Max(power, 0)));
    }
}
