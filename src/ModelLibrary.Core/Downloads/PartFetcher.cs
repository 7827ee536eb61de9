using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Win32.SafeHandles;
using ModelLibrary.Net;
using ModelLibrary.Files;

namespace ModelLibrary.Downloads;

/// <summary>
/// Moves one part's bytes from one HTTP response to their offset in the partial file. One call is one request;
/// the caller decides about retries. Every failure comes out as one of: <see cref="TransientDownloadException"/>
/// (try again), <see cref="RestartDownloadException"/> (the bytes on disk do not fit the server's file any more),
/// a <see cref="ModelLibraryException"/> (final), or a cancellation.
/// </summary>
internal sealed class PartFetcher
{
    readonly HttpClient http;
    readonly ResumeState state;
    readonly SafeFileHandle file;
    readonly string partialPath;
    readonly TimeSpan stallTimeout;
    readonly int bufferSize;
    readonly int writeSize;
    readonly PrefixHasher? hasher;
    readonly RateLimiter? limiter;
    readonly RequestLogin login;

    public PartFetcher(HttpClient http, ResumeState state, SafeFileHandle file, string partialPath, TimeSpan stallTimeout, int bufferSize, int writeSize, PrefixHasher? hasher,
        RequestLogin? login = null, RateLimiter? limiter = null)
    {
        this.login = login ?? new RequestLogin(null, null);
        this.limiter = limiter;
        this.http = http;
        this.state = state;
        this.file = file;
        this.partialPath = partialPath;
        this.stallTimeout = stallTimeout;
        this.bufferSize = bufferSize;
        this.writeSize = writeSize > 0 ? writeSize : int.MaxValue;
        this.hasher = hasher;
    }

    string ModelId => state.Request.ModelId;

    /// <summary>Fetches what is left of <paramref name="part"/> from the request's URL.</summary>
    public Task FetchAsync(Part part, CancellationToken cancellationToken) => FetchAsync(part, state.Request.Url, cancellationToken);

    bool IsPrimary(Uri url) => url == state.Request.Url;

    /// <summary>Fetches what is left of <paramref name="part"/> from <paramref name="url"/> (the request's URL or a mirror).</summary>
    public async Task FetchAsync(Part part, Uri url, CancellationToken cancellationToken)
    {
        using var watch = new StallWatch(stallTimeout, cancellationToken);
        try
        {
            await FetchCoreAsync(part, url, watch);
        }
        catch (OperationCanceledException) when (watch.Fired && !cancellationToken.IsCancellationRequested)
        {
            throw new TransientDownloadException($"No data from {url.Host} for {stallTimeout.TotalSeconds:0.#} s at offset {part.Position}; reconnecting.");
        }
    }

    async Task FetchCoreAsync(Part part, Uri url, StallWatch watch)
    {
        var token = watch.Token;
        var from = part.Position;
        // A part of a split file always asks for its exact range; a single stream only when resuming.
        var ranged = !state.SingleStream || from > 0;
        HttpRequestMessage Create()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url).With(Net.HttpPolicy.ForDownload(ModelId, state.Request.AllowInsecureHttp));
            if (ranged)
            {
                request.Headers.Range = new RangeHeaderValue(from, part.Length is { } length ? part.Start + length - 1 : null);
                if (IsPrimary(url))
                {
                    // A mirror's validators are its own; its bytes are proven by the file's checksum instead.
                    DownloadHttp.AddIfRange(request, state.ETag, state.LastModified);
                }
            }

            return request;
        }

        HttpResponseMessage response;
        try
        {
            // Inside the try: logging in may itself need the network (a registry token), and fail as transiently.
            response = await login.SendAsync(http, Create, url, token);
        }
        catch (Exception e) when (DownloadHttp.IsTransientNetworkError(e) && !token.IsCancellationRequested)
        {
            throw new TransientDownloadException($"Cannot reach {url.Host}: {e.Message}", inner: e);
        }

        using (response)
        {
            Accept(response, part, ranged, from, url);
            Stream body;
            try
            {
                body = await response.Content.ReadAsStreamAsync(token);
            }
            catch (Exception e) when (DownloadHttp.IsTransientNetworkError(e) && !token.IsCancellationRequested)
            {
                throw new TransientDownloadException($"Connection to {url.Host} lost: {e.Message}", inner: e);
            }

            await using (body)
            {
                await CopyAsync(body, part, watch, url);
            }
        }
    }

    /// <summary>Decides whether this response's body belongs at <paramref name="from"/> in our file.</summary>
    void Accept(HttpResponseMessage response, Part part, bool ranged, long from, Uri url)
    {
        var status = response.StatusCode;
        var etag = response.Headers.ETag?.ToString();
        if (response.IsSuccessStatusCode && Net.BoundedBody.IsHtml(response.Content))
        {
            throw new DiscardPartialException(DownloadHttp.WebPage(response, url, ModelId));
        }

        if (status == HttpStatusCode.PartialContent && ranged)
        {
            var range = response.Content.Headers.ContentRange;
            if (range?.From != from)
            {
                throw new RestartDownloadException($"The server answered a request for offset {from} with '{range}'.", singleStream: true);
            }

            if (Changed(IsPrimary(url) ? etag : null, range.Length))
            {
                throw new RestartDownloadException("The file changed on the server (new ETag or size).", singleStream: false);
            }

            return;
        }

        if (status == HttpStatusCode.OK)
        {
            if (ranged)
            {
                // Writing this body at 'from' would corrupt the file: it starts at byte 0 (or is a newer file).
                throw new RestartDownloadException("The server answered a Range request with the whole file.", singleStream: true);
            }

            SizeLimit.CheckStated(state.Request, response.Content.Headers.ContentLength, "its answer's Content-Length");
            if (response.Content.Headers.ContentLength is { } length && state.TotalSize is { } total && length != total)
            {
                throw new RestartDownloadException($"The file changed on the server (its size was {total} bytes, now {length}).", singleStream: false);
            }

            // Nothing of ours is on disk yet: whatever version this is, it is the one we keep and resume.
            state.ETag = etag;
            state.LastModified = response.Content.Headers.LastModified?.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            return;
        }

        if (status == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new RestartDownloadException("The server cannot serve the remaining range; the file changed.", singleStream: false);
        }

        if (response.IsSuccessStatusCode)
        {
            throw Errors.NetworkFailure($"Downloading '{ModelId}' failed: unexpected HTTP {(int)status} from {Net.SafeUrl.Masked(url)}.", (int)status, ModelId);
        }

        throw DownloadHttp.ForStatus(response, url, ModelId);
    }

    bool Changed(string? etag, long? totalLength) =>
        (etag is not null && state.ETag is not null && etag != state.ETag)
        || (totalLength is not null && state.TotalSize is not null && totalLength != state.TotalSize);

    async Task CopyAsync(Stream body, Part part, StallWatch watch, Uri url)
    {
        var readSize = limiter?.ReadSize(bufferSize) ?? bufferSize;
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            while (true)
            {
                var want = part.Remaining is { } remaining ? (int)Math.Min(readSize, remaining) : readSize;
                if (want <= 0)
                {
                    return;
                }

                int read;
                try
                {
                    read = await body.ReadAsync(buffer.AsMemory(0, want), watch.Token);
                }
                catch (Exception e) when (DownloadHttp.IsTransientNetworkError(e) && !watch.Token.IsCancellationRequested)
                {
                    throw new TransientDownloadException($"Connection to {url.Host} lost at offset {part.Position}: {e.Message}", inner: e);
                }

                if (read == 0)
                {
                    if (part.Length is null)
                    {
                        part.EndHere();
                        return;
                    }

                    throw new TransientDownloadException($"The response from {url.Host} ended at offset {part.Position}, {part.Remaining} bytes early.");
                }

                // A stream of unknown length stops the moment it passes the stated or declared size: not one byte
                // more is written, so a server that never stops cannot fill the disk.
                if (part.Length is null && SizeLimit.For(state) is { } limit && part.Position + read > limit)
                {
                    throw SizeLimit.Passed(state.Request, limit, declaredOnly: state.TotalSize is null);
                }

                var offset = part.Position;
                Write(buffer.AsSpan(0, read), offset);
                part.Advance(read);
                watch.Touch();
                if (hasher?.TryTake(buffer, offset, read) == true)
                {
                    // The hash reads these bytes from this buffer instead of from the file; receive into a new one.
                    buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
                }

                if (limiter is not null)
                {
                    // Over the budget: wait here (the stall watch does not count this wait as the server's silence).
                    watch.Pause();
                    await limiter.PayAsync(read, watch.Token);
                    watch.Touch();
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    void Write(ReadOnlySpan<byte> bytes, long offset)
    {
        try
        {
            // Positional writes on one shared handle: each connection writes its own range, no seek, no lock.
            // In slices of writeSize (see DownloadOptions.WriteSize), however much one receive brought.
            for (var done = 0; done < bytes.Length; done += writeSize)
            {
                var slice = bytes.Slice(done, Math.Min(writeSize, bytes.Length - done));
                RandomAccess.Write(file, slice, offset + done);
            }
        }
        catch (IOException e) when (DiskErrors.IsDiskFull(e))
        {
            // True figures: what is still to come (at least this write) against what the volume has left now.
            var required = Math.Max(bytes.Length, (state.TotalSize ?? offset + bytes.Length) - offset);
            var directory = Path.GetDirectoryName(partialPath) ?? partialPath;
            throw Errors.InsufficientDiskSpace(ModelId, required, Volumes.AvailableFreeSpace(directory) ?? 0, directory);
        }
    }
}
