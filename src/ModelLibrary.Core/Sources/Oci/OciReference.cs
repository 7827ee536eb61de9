using System.Net;
using System.Text.RegularExpressions;

namespace ModelLibrary.Sources.Oci;

/// <summary>
/// <c>&lt;registry&gt;/&lt;repository&gt;[:&lt;tag&gt;|@sha256:&lt;hex&gt;]</c>: the registry is a host with a dot
/// or a port, or <c>localhost</c>; the tag defaults to <c>latest</c>. Grammar from distribution/reference
/// (path components of lower-case letters and digits joined by <c>.</c>, <c>_</c>, <c>__</c> or dashes; tags of
/// up to 128 word characters, dots and dashes).
/// </summary>
public sealed partial record OciReference(string Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>The tag or digest a manifest request names.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    /// <summary>The reference as the library records it: the tag made explicit (or the digest).</summary>
    public override string ToString() => Digest is not null ? $"{Registry}/{Repository}@{Digest}" : $"{Registry}/{Repository}:{Tag ?? "latest"}";

    /// <summary>True for 127.0.0.0/8, ::1 and localhost, where plain http is allowed.</summary>
    public bool IsLoopback => IsLoopbackHost(HostOf(Registry));

    public static bool TryParse(string? text, out OciReference reference)
    {
        reference = null!;
        if (string.IsNullOrWhiteSpace(text) || text.Contains("://", StringComparison.Ordinal))
        {
            return false;
        }

        var slash = text.IndexOf('/');
        if (slash <= 0)
        {
            return false;
        }

        var registry = text[..slash];
        if (!RegistryHost().IsMatch(registry) || !(registry.Contains('.') || registry.Contains(':') || registry == "localhost"))
        {
            return false;
        }

        var rest = text[(slash + 1)..];
        string? digest = null;
        string? tag = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!DigestPattern().IsMatch(digest))
            {
                return false;
            }
        }

        var colon = rest.LastIndexOf(':');
        if (colon >= 0)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!TagPattern().IsMatch(tag))
            {
                return false;
            }
        }

        if (!RepositoryPattern().IsMatch(rest) || rest.Length > 255)
        {
            return false;
        }

        reference = new OciReference(registry.ToLowerInvariant(), rest, digest is null ? tag ?? "latest" : tag, digest);
        return true;
    }

    public static OciReference Parse(string text) => TryParse(text, out var reference)
        ? reference
        : throw new ModelLibraryException(ErrorIds.InvalidModelSource, ErrorKind.InvalidArgument,
            $"'{text}' is not a registry reference (<registry>/<repository>[:<tag>|@sha256:<digest>], the registry a host with a dot or a port, or localhost).",
            new Dictionary<string, object?> { ["reference"] = text },
            new[] { "Write the reference as registry.example.com/models/llama:q4 or 127.0.0.1:5000/models/llama@sha256:<64 hex digits>." }, text);

    public OciReference WithDigest(string digest) => this with { Digest = digest };

    internal static string HostOf(string registry)
    {
        if (registry.StartsWith('['))
        {
            var end = registry.IndexOf(']');
            return end > 0 ? registry[1..end] : registry;
        }

        var colon = registry.LastIndexOf(':');
        return colon > 0 ? registry[..colon] : registry;
    }

    internal static bool IsLoopbackHost(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip));

    [GeneratedRegex(@"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*)(:[0-9]{1,5})?$")]
    private static partial Regex RegistryHost();

    [GeneratedRegex(@"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^sha256:[a-f0-9]{64}$")]
    private static partial Regex DigestPattern();
}
