using System.Net;

namespace ModelLibrary.Sources.Oci;

/// <summary>
/// An OCI reference (<c>&lt;registry&gt;/&lt;repository&gt;[:&lt;tag&gt;|@sha256:&lt;hex&gt;]</c>) as the registry client
/// uses it. Parsing is <see cref="ModelReference"/>'s (one grammar for every reference); this adds what a registry
/// call needs: the tag or digest a manifest request names, and whether plain http is allowed.
/// </summary>
public sealed record OciReference(string Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>The tag or digest a manifest request names.</summary>
    public string Reference => Digest ?? Tag ?? "latest";

    /// <summary>The reference as the library records it: the tag made explicit (or the digest).</summary>
    public override string ToString() => Digest is not null ? $"{Registry}/{Repository}@{Digest}" : $"{Registry}/{Repository}:{Tag ?? "latest"}";

    public static OciReference From(ModelReference reference) => reference.Kind == ModelReferenceKind.Oci
        ? new OciReference(reference.Registry!, reference.Repository!, reference.Tag, reference.Digest)
        : throw new ArgumentException($"'{reference.Text}' is not an OCI reference.", nameof(reference));

    public static bool TryParse(string? text, out OciReference reference)
    {
        reference = null!;
        if (!ModelReference.LooksLikeReference(text))
        {
            return false;
        }

        try
        {
            var parsed = ModelReference.Parse(text!);
            if (parsed.Kind != ModelReferenceKind.Oci)
            {
                return false;
            }

            reference = From(parsed);
            return true;
        }
        catch (ModelLibraryException)
        {
            return false;
        }
    }

    /// <summary>Parses a registry reference; InvalidModelId (from <see cref="ModelReference.Parse"/>) or InvalidModelSource when it is another kind.</summary>
    public static OciReference Parse(string text)
    {
        var parsed = ModelReference.Parse(text);
        return parsed.Kind == ModelReferenceKind.Oci
            ? From(parsed)
            : throw Errors.InvalidModelSource(text,
                $"'{text}' is not a registry reference (<registry>/<repository>[:<tag>], the registry a host with a dot or a port, or localhost).",
                new Dictionary<string, object?> { ["reference"] = text },
                new[] { "Write the reference as registry.example.com/models/llama:q4 or 127.0.0.1:5000/models/llama:latest." });
    }

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
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
}
