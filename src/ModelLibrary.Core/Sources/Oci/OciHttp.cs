namespace ModelLibrary.Sources.Oci;

/// <summary>How registry answers are read: bodies with a cap.</summary>
internal static class OciHttp
{
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
