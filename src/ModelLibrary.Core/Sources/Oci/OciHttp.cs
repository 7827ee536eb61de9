using System.Net;
using ModelLibrary.Downloads;

namespace ModelLibrary.Sources.Oci;

/// <summary>The HTTP client registry calls go through, and how bodies are read with a cap.</summary>
internal static class OciHttp
{
    static readonly Lazy<HttpClient> Shared = new(() => Create(null));

    /// <summary>One client per process for manifests, tokens, listings and uploads (blob downloads use the engine's).</summary>
    public static HttpClient Client => Shared.Value;

    /// <remarks>
    /// The engine's handler settings (proxy from the environment, no decompression, pooled connections) but no
    /// automatic redirects: <see cref="OciRegistryClient"/> follows them itself so that a credential never goes
    /// to another host (a blob redirected to S3 or Azure Blob storage).
    /// </remarks>
    public static HttpClient Create(IWebProxy? proxy)
    {
        var handler = DownloadHttp.CreateHandler(proxy);
        handler.AllowAutoRedirect = false;
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd($"ModelLibrary/{typeof(OciHttp).Assembly.GetName().Version?.ToString(3) ?? "1.0"}");
        return client;
    }

    /// <summary>Reads a body of at most <paramref name="max"/> bytes; a larger one is refused before it is all read.</summary>
    public static async Task<byte[]> ReadCappedAsync(HttpResponseMessage response, long max, string registry, string what, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is { } declared && declared > max)
        {
            throw new BodyTooLargeException(declared, max);
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > max)
            {
                throw new BodyTooLargeException(buffer.Length + read, max);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

/// <summary>A body larger than the library reads into memory (a manifest over 4 MiB).</summary>
internal sealed class BodyTooLargeException : Exception
{
    public BodyTooLargeException(long seen, long max) : base($"more than {max} bytes (at least {seen})")
    {
        Max = max;
    }

    public long Max { get; }
}
