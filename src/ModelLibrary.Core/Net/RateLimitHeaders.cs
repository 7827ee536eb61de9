using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelLibrary.Net;

/// <summary>
/// How long a 429 (or 503) asks the client to wait, read as huggingface_hub's utils/_http.py reads it: the IETF draft
/// <c>RateLimit</c> header (draft-ietf-httpapi-ratelimit-headers-09, <c>"api";r=0;t=55</c>: the bucket, requests
/// remaining, seconds until the window resets; <c>parse_ratelimit_headers</c>) when nothing remains, else
/// <c>Retry-After</c> (seconds, or an HTTP date). The Hub answers API calls and resolve (file) requests alike with them
/// (hub-docs rate-limits.md: buckets "api", "resolvers", "pages"). One reading for the Hub's API client and the
/// download engine.
/// </summary>
public static partial class RateLimitHeaders
{
    /// <summary>The wait the answer asks for (never negative), or null when it names none.</summary>
    public static TimeSpan? WaitOf(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("RateLimit", out var values)
            && RateLimit().Match(string.Join(",", values)) is { Success: true } m
            && m.Groups["r"].Value.TrimStart('0').Length == 0
            && long.TryParse(m.Groups["t"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Min(seconds, (long)TimeSpan.FromDays(1).TotalSeconds));
        }

        return response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
            _ => null,
        };
    }

    [GeneratedRegex("\"(?<bucket>\\w+)\"\\s*;\\s*r\\s*=\\s*(?<r>\\d+)\\s*;\\s*t\\s*=\\s*(?<t>\\d+)")]
    private static partial Regex RateLimit();
}
