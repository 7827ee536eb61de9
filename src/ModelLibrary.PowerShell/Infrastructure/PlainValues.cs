using System.Collections;
using System.Collections.Specialized;
using System.Management.Automation;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>
/// Turns what PowerShell hands a cmdlet into plain .NET values for Core, which has no PowerShell reference:
/// PSObject wrappers are removed, PSCustomObjects become dictionaries, and nested tables and arrays are copied
/// with their values unwrapped the same way.
/// </summary>
public static class PlainValues
{
    /// <summary>Deeper than any sensible definition; stops a table that contains itself from recursing forever.</summary>
    const int MaxDepth = 32;

    public static object? Unwrap(object? value) => Unwrap(value, 0);

    static object? Unwrap(object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            return value;
        }

        switch (value)
        {
            case null:
                return null;
            case PSObject { BaseObject: PSCustomObject } custom:
                var properties = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
                foreach (var property in custom.Properties)
                {
                    properties[property.Name] = Unwrap(property.Value, depth + 1);
                }

                return properties;
            case PSObject wrapped:
                return Unwrap(wrapped.BaseObject, depth);
            case string:
                return value;
            case IDictionary dictionary:
                // Ordered, so problems are reported in the order the user wrote the keys (for [ordered] tables).
                var copy = new OrderedDictionary();
                foreach (DictionaryEntry entry in dictionary)
                {
                    copy[Unwrap(entry.Key, depth + 1) ?? ""] = Unwrap(entry.Value, depth + 1);
                }

                return copy;
            case IEnumerable list:
                return list.Cast<object?>().Select(item => Unwrap(item, depth + 1)).ToArray();
            default:
                return value;
        }
    }
}
