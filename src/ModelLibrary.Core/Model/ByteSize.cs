using System.Globalization;

namespace ModelLibrary;

/// <summary>Sizes in human units for views and messages (binary multiples, written KB/MB/GB as most tools do).</summary>
public static class ByteSize
{
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
}
