using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace ModelLibrary.TestServer;

/// <summary>
/// Faults requested through the query string, so that a catalog URL alone carries its fault.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>status=S</c> answer S always; with <c>failFirst=K</c> only the first K requests to that URL (then
/// normally); <c>retryAfter=Sec</c> adds Retry-After.</item>
/// <item><c>dropAfter=N</c> abort the connection after N body bytes of a response.</item>
/// <item><c>stallAfter=N&amp;stallMs=M</c> stop sending for M ms after N body bytes.</item>
/// <item><c>times=K</c> limits dropAfter, stallAfter and corrupt to the first K body responses of that URL.</item>
/// <item><c>rate=B</c> bytes per second per response.</item>
/// <item><c>corrupt=1</c> flip bits in the body (same length, different hash).</item>
/// <item><c>ignoreRange=1</c> advertise ranges but answer them with 200 and the whole body.</item>
/// <item><c>noRanges=1</c> no Accept-Ranges and ignore Range.</item>
/// <item><c>noLength=1</c> chunked, no Content-Length.</item>
/// <item><c>etag=X</c> override the ETag (simulates a changed file).</item>
/// <item><c>htmlOnGet=1</c> HEAD answers as usual, GET answers 200 with an HTML sign-in page (as a CDN or a gated
/// repository does when it wants a login), with that page's own Content-Length.</item>
/// <item><c>basicAuth=B</c> 401 with a Basic challenge unless the request carries <c>Authorization: Basic B</c> (B the
/// base64 of <c>user:password</c>, so the password itself is not in the URL a test checks for leaks).</item>
/// <item><c>hangMs=M</c> (any route) accept the request and answer nothing for M ms: an unresponsive server.</item>
/// </list>
/// </remarks>
public sealed record Faults
{
    public int? Status { get; init; }
    public int FailFirst { get; init; }
    public int? RetryAfterSeconds { get; init; }
    public long? DropAfter { get; init; }
    public long? StallAfter { get; init; }
    public int StallMs { get; init; } = 10_000;
    public int? Times { get; init; }
    public long? Rate { get; init; }
    public bool Corrupt { get; init; }
    public bool IgnoreRange { get; init; }
    public bool NoRanges { get; init; }
    public bool NoLength { get; init; }
    public string? ETag { get; init; }
    public bool HtmlOnGet { get; init; }
    public string? BasicAuth { get; init; }

    public static Faults From(IQueryCollection query)
    {
        long? Long(string name) => long.TryParse(query[name], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
        bool Flag(string name) => query[name] is { Count: > 0 } v && v[0] is "1" or "true";

        return new Faults
        {
            Status = (int?)Long("status"),
            FailFirst = (int)(Long("failFirst") ?? 0),
            RetryAfterSeconds = (int?)Long("retryAfter"),
            DropAfter = Long("dropAfter"),
            StallAfter = Long("stallAfter"),
            StallMs = (int)(Long("stallMs") ?? 10_000),
            Times = (int?)Long("times"),
            Rate = Long("rate") is > 0 and var r ? r : null,
            Corrupt = Flag("corrupt"),
            IgnoreRange = Flag("ignoreRange"),
            NoRanges = Flag("noRanges"),
            NoLength = Flag("noLength"),
            ETag = query["etag"] is { Count: > 0 } e ? $"\"{e[0]}\"" : null,
            HtmlOnGet = Flag("htmlOnGet"),
            BasicAuth = query["basicAuth"] is { Count: > 0 } b ? b[0] : null,
        };
    }

    /// <summary>Body faults apply to every response unless <c>times</c> limits them to the first K.</summary>
    public bool BodyFaultsApply(long bodyResponseNumber) => Times is not { } k || bodyResponseNumber <= k;

    /// <summary>Where <c>corrupt=1</c> flips a byte: a fixed pattern of absolute offsets, so ranged and whole reads agree.</summary>
    public static bool IsCorruptedOffset(long offset, long length) => offset % 4096 == 1000 || (length <= 1000 && offset == length - 1);
}
