using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace ModelLibrary.TestServer;

/// <summary>
/// Sends a <see cref="Content"/> the way a CDN does (HEAD, ETag, Last-Modified, single ranges, If-Range),
/// then bends the answer as the request's <see cref="Faults"/> ask.
/// </summary>
sealed class ContentEndpoint
{
    // Large enough that a 2 GiB transfer costs a few thousand writes, small enough to stay cheap per request.
    const int ChunkSize = 512 * 1024;

    readonly ServerStats stats;

    public ContentEndpoint(ServerStats stats) => this.stats = stats;

    public async Task SendAsync(HttpContext context, Func<Content?> open)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Path.Value ?? "/";
        var key = path + request.QueryString.Value;
        var faults = Faults.From(request.Query);
        var number = stats.CountRequest(path, key, request.Headers.Range.Count > 0);

        if (!HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        if (faults.BasicAuth is { } expected
            && request.Headers.Authorization.ToString() != "Basic " + expected)
        {
            response.StatusCode = StatusCodes.Status401Unauthorized;
            response.Headers.WWWAuthenticate = "Basic realm=\"models\"";
            return;
        }

        if (faults.Status is { } status && (faults.FailFirst == 0 || number <= faults.FailFirst))
        {
            response.StatusCode = status;
            if (faults.RetryAfterSeconds is { } retryAfter)
            {
                response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            }

            return;
        }

        using var content = open() is { } c ? new Disposer(c) : null;
        if (content is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var body = content.Value;
        var etag = faults.ETag ?? body.ETag;
        response.Headers.ETag = etag;
        response.Headers.LastModified = body.LastModified.ToString("R", CultureInfo.InvariantCulture);
        response.ContentType = "application/octet-stream";
        if (!faults.NoRanges)
        {
            response.Headers.AcceptRanges = "bytes";
        }

        long start = 0, length = body.Length;
        var honourRange = !faults.IgnoreRange && !faults.NoRanges && IfRangeHolds(request, etag, body.LastModified);
        if (honourRange && TryParseRange(request.Headers.Range.ToString(), body.Length, out var range))
        {
            if (range is null)
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{body.Length}";
                return;
            }

            (start, length) = range.Value;
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {start}-{start + length - 1}/{body.Length}";
        }

        if (!faults.NoLength)
        {
            response.ContentLength = length;
        }

        if (HttpMethods.IsHead(request.Method))
        {
            return;
        }

        if (faults.HtmlOnGet)
        {
            await WriteSignInPageAsync(context);
            return;
        }

        var bodyNumber = stats.BeginBody(key);
        var ended = 0;
        // The body stops counting as in flight when its last bytes are handed over, not when the write returns:
        // by then the client may already have started its next request, and maxConcurrent would count both.
        void End()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0)
            {
                stats.EndBody();
            }
        }

        try
        {
            await WriteBodyAsync(context, body, start, length, faults, faults.BodyFaultsApply(bodyNumber), path, End);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionAbortedException)
        {
            // The client went away (a paused or cancelled download); nothing to answer.
        }
        finally
        {
            End();
        }
    }

    async Task WriteBodyAsync(HttpContext context, Content body, long start, long length, Faults faults, bool faultsOn, string path, Action lastChunk)
    {
        var aborted = context.RequestAborted;
        var chunk = faults.Rate is { } rate ? (int)Math.Clamp(rate / 20, 1024, ChunkSize) : ChunkSize;
        // Bytes are read from the content straight into the response pipe's memory and sent from there: one copy
        // fewer than reading into a buffer of our own and writing that, which on loopback is CPU the client
        // under test would otherwise lose to its own server.
        var writer = context.Response.BodyWriter;
        var clock = Stopwatch.StartNew();
        var stalled = false;
        long sent = 0;
        while (sent < length)
        {
            var n = (int)Math.Min(chunk, length - sent);
            if (faultsOn && faults.DropAfter is { } drop && drop < length)
            {
                if (sent >= drop)
                {
                    // Give the transport a moment to put the N bytes on the wire: an abort right after the
                    // flush can discard them, and the fault would no longer be "N bytes, then the drop".
                    await writer.FlushAsync(aborted);
                    await Task.Delay(50, aborted);
                    context.Abort();
                    return;
                }

                n = (int)Math.Min(n, drop - sent);
            }

            if (faultsOn && !stalled && faults.StallAfter is { } stallAt)
            {
                if (sent >= stallAt)
                {
                    stalled = true;
                    await writer.FlushAsync(aborted);
                    await Task.Delay(faults.StallMs, aborted);
                }
                else
                {
                    n = (int)Math.Min(n, stallAt - sent);
                }
            }

            var span = writer.GetSpan(n)[..n];
            n = body.Read(start + sent, span);
            if (n == 0)
            {
                break;
            }

            if (faultsOn && faults.Corrupt)
            {
                Corrupt(span[..n], start + sent, body.Length);
            }

            writer.Advance(n);
            // Counted before the flush for the same reason: the client may finish before the flush returns.
            stats.CountBytes(path, n);
            if (sent + n == length)
            {
                lastChunk();
            }

            var flushed = await writer.FlushAsync(aborted);
            sent += n;
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                // The client went away.
                return;
            }

            if (faults.Rate is { } bytesPerSecond)
            {
                var due = TimeSpan.FromSeconds((double)sent / bytesPerSecond) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, aborted);
                }
            }
        }
    }

    /// <summary>What a CDN or a gated repository answers in place of the file: 200, text/html, a page of its own size.</summary>
    static async Task WriteSignInPageAsync(HttpContext context)
    {
        var page = "<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Sign in to continue</h1></body></html>"u8.ToArray();
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.Remove("Content-Range");
        response.Headers.Remove("Accept-Ranges");
        response.ContentType = "text/html; charset=utf-8";
        response.ContentLength = page.Length;
        await response.Body.WriteAsync(page, context.RequestAborted);
    }

    static void Corrupt(Span<byte> span, long offset, long totalLength)
    {
        for (var i = 0; i < span.Length; i++)
        {
            if (Faults.IsCorruptedOffset(offset + i, totalLength))
            {
                span[i] ^= 0x5A;
                i += 4095; // with the loop's i++, the next candidate 4096 bytes on
            }
        }
    }

    /// <summary>If-Range: the range holds only while the validator still matches.</summary>
    static bool IfRangeHolds(HttpRequest request, string etag, DateTimeOffset lastModified)
    {
        var ifRange = request.Headers.IfRange.ToString();
        if (string.IsNullOrEmpty(ifRange))
        {
            return true;
        }

        if (ifRange.StartsWith('"') || ifRange.StartsWith("W/", StringComparison.Ordinal))
        {
            return ifRange == etag;
        }

        return DateTimeOffset.TryParse(ifRange, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
               && date == new DateTimeOffset(lastModified.UtcDateTime.AddTicks(-(lastModified.UtcDateTime.Ticks % TimeSpan.TicksPerSecond)));
    }

    /// <summary>
    /// Parses one byte range. False when there is none (or several, which this server answers whole);
    /// true with null when it cannot be satisfied.
    /// </summary>
    static bool TryParseRange(string header, long total, out (long Start, long Length)? range)
    {
        range = null;
        if (!RangeHeaderValue.TryParse(header, out var parsed) || parsed.Unit != "bytes" || parsed.Ranges.Count != 1)
        {
            return false;
        }

        var item = parsed.Ranges.First();
        long start, end;
        if (item.From is { } from)
        {
            start = from;
            end = Math.Min(item.To ?? total - 1, total - 1);
        }
        else if (item.To is { } suffix && suffix > 0)
        {
            start = Math.Max(0, total - suffix);
            end = total - 1;
        }
        else
        {
            return true;
        }

        if (start >= total || end < start)
        {
            return true;
        }

        range = (start, end - start + 1);
        return true;
    }

    sealed class Disposer : IDisposable
    {
        public Disposer(Content value) => Value = value;
        public Content Value { get; }
        public void Dispose() => (Value as IDisposable)?.Dispose();
    }
}
