namespace ModelLibrary;

/// <summary>
/// The one spelling of a checksum in this library: <c>sha256:&lt;64 lower-case hex digits&gt;</c>. Catalogs,
/// the registry, downloads and validation all read and write it through here.
/// </summary>
public static class Sha256Checksum
{
    public const string Prefix = "sha256:";

    /// <summary><c>sha256:&lt;hex&gt;</c> or bare hex, any case → <c>sha256:&lt;lower hex&gt;</c>; null for anything else.</summary>
    public static string? Normalize(string? checksum)
    {
        if (string.IsNullOrWhiteSpace(checksum))
        {
            return null;
        }

        var hex = checksum.Trim();
        hex = hex.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? hex[Prefix.Length..] : hex;
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? Prefix + hex.ToLowerInvariant() : null;
    }

    /// <summary>The 64 lower-case hex digits of a checksum, or null when it is not a SHA-256 one.</summary>
    public static string? Hex(string? checksum) => Normalize(checksum)?[Prefix.Length..];

    /// <summary>The SHA-256 of a file's bytes as <c>sha256:&lt;hex&gt;</c>, read once from start to end.</summary>
    public static async Task<string> OfFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Format(await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The 64 lower-case hex digits of a file's SHA-256.</summary>
    public static async Task<string> HexOfFileAsync(string path, CancellationToken cancellationToken) =>
        (await OfFileAsync(path, cancellationToken).ConfigureAwait(false))[Prefix.Length..];

    /// <summary>A digest as <c>sha256:&lt;hex&gt;</c>.</summary>
    public static string Format(ReadOnlySpan<byte> digest) => Prefix + Convert.ToHexString(digest).ToLowerInvariant();
}
