using System.Globalization;
using System.Text.Json;

namespace ModelLibrary.Registry;

/// <summary>
/// Turns JSON into plain .NET values (string, long, double, bool, null, object[], Dictionary) so that free-form
/// fields (performance metrics, unknown catalog fields) show up in PowerShell as ordinary values, not JsonElements.
/// </summary>
public static class JsonValues
{
    public static object? ToPlain(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => element.EnumerateArray().Select(ToPlain).ToArray(),
        JsonValueKind.Object => element.EnumerateObject().ToDictionary(p => p.Name, p => ToPlain(p.Value), StringComparer.OrdinalIgnoreCase),
        _ => null,
    };

    public static string? GetString(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        } : null;

    public static long? GetInt64(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var v))
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l))
        {
            return l;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d >= 0 && d <= long.MaxValue)
        {
            return (long)d;
        }

        return v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : null;
    }

    public static string[] GetStrings(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToArray()
            : Array.Empty<string>();

    public static IDictionary<string, object?> GetObject(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object
            ? (IDictionary<string, object?>)ToPlain(v)!
            : new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);

    public static string Serialize(object? value) => JsonSerializer.Serialize(value);

    public static string? Timestamp(DateTimeOffset? value) => value?.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTimestamp(object? value) =>
        value is string s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;
}
