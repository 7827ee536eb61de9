namespace ModelLibrary.Net;

/// <summary>
/// Reads a response body into memory up to a limit counted on the bytes that arrive, whatever Content-Length says
/// (a chunked body has none, and an endless one would otherwise fill memory).
/// </summary>
public static class BoundedBody
{
    /// <summary>The body, or null as soon as more than <paramref name="maxBytes"/> arrived.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }
    }

    /// <summary>True when the server says the body is a web page (a login, consent or error page), not data.</summary>
    public static bool IsHtml(HttpContent content) =>
        content.Headers.ContentType?.MediaType is { } type
        && (type.Equals("text/html", StringComparison.OrdinalIgnoreCase) || type.Equals("application/xhtml+xml", StringComparison.OrdinalIgnoreCase));
}
