using System.Text;
using System.Text.RegularExpressions;

namespace ModelLibrary.Library;

/// <summary>PowerShell-style wildcards (<c>*</c>, <c>?</c>, <c>[a-z]</c>, case-insensitive) without a PowerShell reference.</summary>
public sealed class Glob
{
    readonly Regex regex;

    public Glob(string pattern)
    {
        Pattern = pattern;
        var builder = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '*': builder.Append(".*"); break;
                case '?': builder.Append('.'); break;
                case '`' when i + 1 < pattern.Length: builder.Append(Regex.Escape(pattern[++i].ToString())); break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close > i + 1)
                    {
                        builder.Append('[').Append(pattern[(i + 1)..close].Replace("\\", "\\\\")).Append(']');
                        i = close;
                    }
                    else
                    {
                        builder.Append("\\[");
                    }

                    break;
                default: builder.Append(Regex.Escape(c.ToString())); break;
            }
        }

        regex = new Regex(builder.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    public string Pattern { get; }

    public bool HasWildcards => Pattern.IndexOfAny(new[] { '*', '?', '[' }) >= 0;

    public bool IsMatch(string? value) => value is not null && regex.IsMatch(value);
}
