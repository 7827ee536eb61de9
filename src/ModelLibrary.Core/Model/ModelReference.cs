using System.Text.RegularExpressions;

namespace ModelLibrary;

/// <summary>What a model reference points at.</summary>
public enum ModelReferenceKind
{
    /// <summary>A Hugging Face Hub repository, a quantization in it, or one of its files (<c>hf.co/...</c>).</summary>
    HuggingFace,
    /// <summary>An OCI artifact: <c>&lt;registry&gt;/&lt;repository&gt;[:&lt;tag&gt;|@sha256:&lt;hex&gt;]</c>.</summary>
    Oci,
    /// <summary>One file at an http(s) URL (<c>Start-ModelDownload -Uri</c>).</summary>
    Url,
}

/// <summary>
/// A model named by where it lives rather than by a catalog id (contract "Version 2", Model references). Parsing
/// never touches the network. A string that is a catalog id is not a reference: callers look ids up first, since
/// catalog ids win when a string is both.
/// </summary>
public sealed partial record ModelReference
{
    /// <summary>The host every Hub reference is written with; <c>huggingface.co/</c> means the same.</summary>
    public const string HubHost = "hf.co";

    public required ModelReferenceKind Kind { get; init; }
    /// <summary>The text as given.</summary>
    public required string Text { get; init; }

    /// <summary>Hub: the owner (user or organisation).</summary>
    public string? Owner { get; init; }
    /// <summary>Hub: the repository name; OCI: the repository path (<c>library/llama</c>).</summary>
    public string? Repository { get; init; }
    /// <summary>Hub: the quantization after <c>:</c>, upper-case (<c>Q4_K_M</c>).</summary>
    public string? Quantization { get; init; }
    /// <summary>Hub: one file of the repository (forward slashes, never <c>..</c> or rooted).</summary>
    public string? FilePath { get; init; }
    /// <summary>Hub: the branch, tag or commit after <c>@</c>; null means the default branch.</summary>
    public string? Revision { get; init; }

    /// <summary>OCI: the registry host (with its port), or <c>localhost</c>.</summary>
    public string? Registry { get; init; }
    /// <summary>OCI: the tag; <c>latest</c> when neither a tag nor a digest was given.</summary>
    public string? Tag { get; init; }
    /// <summary>OCI: <c>sha256:&lt;hex&gt;</c> when the reference pins a manifest.</summary>
    public string? Digest { get; init; }

    /// <summary>Url: the file's address (http or https only).</summary>
    public Uri? Url { get; init; }

    /// <summary>Hub: <c>owner/repo</c> as the Hub's API names it.</summary>
    public string? RepoId => Owner is null ? null : $"{Owner}/{Repository}";

    /// <summary>
    /// The library id a model downloaded through this reference gets: host normalized to <c>hf.co</c>, quantization
    /// upper-case, OCI tag made explicit. The revision is not part of it: it is recorded as <c>ModelInfo.Revision</c>.
    /// </summary>
    public string Id => Kind switch
    {
        ModelReferenceKind.HuggingFace => $"{HubHost}/{RepoId}" + (FilePath is not null ? "/" + FilePath : Quantization is not null ? ":" + Quantization : ""),
        ModelReferenceKind.Oci => $"{Registry}/{Repository}" + (Digest is not null ? "@" + Digest : ":" + Tag),
        _ => Url!.AbsoluteUri,
    };

    public override string ToString() => Text;

    /// <summary>A copy naming one quantization of the same repository (the revision kept).</summary>
    public ModelReference WithQuantization(string? quantization) => this with
    {
        Quantization = quantization?.ToUpperInvariant(),
        FilePath = null,
        Text = $"{HubHost}/{RepoId}" + (quantization is null ? "" : ":" + quantization.ToUpperInvariant()) + (Revision is null ? "" : "@" + WrittenRevision(Revision)),
    };

    /// <summary>A revision as a reference writes it: Hub refs (<c>refs/pr/1</c>) as they are, other slashes as <c>%2F</c>.</summary>
    public static string WrittenRevision(string revision) =>
        revision.StartsWith("refs/", StringComparison.Ordinal) && revision.Count(c => c == '/') == 2 ? revision : revision.Replace("/", "%2F", StringComparison.Ordinal);

    /// <summary>
    /// True when <paramref name="text"/> has the shape of a reference (it may still be malformed: then
    /// <see cref="Parse"/> says why). Plain catalog ids (no <c>/</c>) never look like one.
    /// </summary>
    public static bool LooksLikeReference(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim();
        if (IsHubPrefixed(t, out _))
        {
            return true;
        }

        if (t.Contains("://", StringComparison.Ordinal))
        {
            return true;
        }

        var slash = t.IndexOf('/');
        return slash > 0 && IsRegistryHost(t[..slash]);
    }

    /// <summary>Parses a reference; throws <see cref="ModelLibraryException"/> (InvalidModelId, or UnsafeModelContent for a file part leaving the repository) when it is not one.</summary>
    public static ModelReference Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (IsHubPrefixed(t, out var rest))
        {
            return ParseHub(text, rest);
        }

        if (t.Contains("://", StringComparison.Ordinal))
        {
            return ParseUrl(text, t);
        }

        var slash = t.IndexOf('/');
        if (slash > 0 && IsRegistryHost(t[..slash]))
        {
            return ParseOci(text, t[..slash], t[(slash + 1)..]);
        }

        throw Invalid(text, "it is neither a catalog id, an hf.co/<owner>/<repo> reference, an OCI <registry>/<repository>[:<tag>] reference nor an http(s) URL");
    }

    /// <summary>Parses when <see cref="LooksLikeReference"/>; null otherwise.</summary>
    public static ModelReference? TryParseShape(string text) => LooksLikeReference(text) ? Parse(text) : null;

    /// <summary>An http(s) URL for <c>Start-ModelDownload -Uri</c>; any other scheme (file, ftp, ...) is InsecureSource.</summary>
    public static ModelReference ParseUrl(string text) => ParseUrl(text, text.Trim());

    static ModelReference ParseUrl(string text, string t)
    {
        if (!Uri.TryCreate(t, UriKind.Absolute, out var url) || string.IsNullOrEmpty(url.Host) && url.Scheme is "http" or "https")
        {
            throw Invalid(text, "it is not an absolute URL");
        }

        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw Errors.InsecureSource(
                $"Refusing to download from '{text}': only https (or http to this machine) is supported, not {url.Scheme}://.", text,
                new Dictionary<string, object?> { ["url"] = text, ["scheme"] = url.Scheme },
                new[] { "Give an https:// URL.", "For a file already on this machine, use Import-LibraryModel -Path." });
        }

        return new ModelReference { Kind = ModelReferenceKind.Url, Text = text, Url = url };
    }

    static bool IsHubPrefixed(string t, out string rest)
    {
        foreach (var prefix in new[] { "hf.co/", "huggingface.co/" })
        {
            if (t.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                rest = t[prefix.Length..];
                return true;
            }
        }

        rest = "";
        return false;
    }

    /// <summary>
    /// <c>&lt;owner&gt;/&lt;repo&gt;[@rev][:quant]</c> or <c>&lt;owner&gt;/&lt;repo&gt;[@rev]/&lt;path&gt;</c>; a revision may also
    /// close the whole reference (<c>.../file.gguf@v1</c>, <c>...:Q4_K_M@v1</c>). A revision is one segment
    /// (<c>main</c>, <c>v1.0</c>, a commit), or a Hub ref of three (<c>refs/pr/1</c>, <c>refs/convert/parquet</c>); any
    /// other name with a slash is written percent-encoded (<c>feature%2Fx</c>), as the Hub's URLs carry it.
    /// </summary>
    static ModelReference ParseHub(string text, string rest)
    {
        var slash = rest.IndexOf('/');
        var owner = slash < 0 ? rest : rest[..slash];
        var afterOwner = slash < 0 ? "" : rest[(slash + 1)..];
        var nameLength = RepoNameChars().Match(afterOwner).Length;
        if (owner.Length == 0 || nameLength == 0)
        {
            throw Invalid(text, "a Hub reference is hf.co/<owner>/<repo>[:<quant>] or hf.co/<owner>/<repo>/<file>");
        }

        var repoPart = afterOwner[..nameLength];
        var tail = afterOwner[nameLength..];
        string? revision = null;
        string? quant = null;
        string? path = null;
        // Qualifiers in any order: :<quant>, @<revision>, then /<path> (which takes the rest).
        while (tail.Length > 0)
        {
            var mark = tail[0];
            if (mark == ':' && quant is null)
            {
                var end = tail.IndexOfAny(new[] { '@', '/' }, 1);
                quant = end < 0 ? tail[1..] : tail[1..end];
                tail = end < 0 ? "" : tail[end..];
            }
            else if (mark == '@' && revision is null)
            {
                (revision, tail) = TakeRevision(tail[1..]);
            }
            else if (mark == '/' && path is null)
            {
                path = tail[1..];
                tail = "";
                // A revision closing a file reference: @refs/<kind>/<name>, or the last '@' of the last segment.
                var refs = revision is null ? path.LastIndexOf("@refs/", StringComparison.Ordinal) : -1;
                var lastAt = path.LastIndexOf('@');
                if (refs >= 0)
                {
                    (revision, var after) = TakeRevision(path[(refs + 1)..]);
                    path = after.Length == 0 ? path[..refs] : throw Invalid(text, $"nothing may follow the revision '@{revision}' but the end of the reference");
                }
                else if (revision is null && lastAt > path.LastIndexOf('/'))
                {
                    revision = DecodeRevision(path[(lastAt + 1)..]);
                    path = path[..lastAt];
                }
            }
            else
            {
                throw Invalid(text, $"'{tail}' after the repository name is not :<quant>, @<revision> or /<file>");
            }
        }

        if (quant is not null && path is not null)
        {
            throw Invalid(text, "give either :<quant> or a file path, not both");
        }

        if (!HubName().IsMatch(owner) || !HubName().IsMatch(repoPart) || repoPart.Contains("--") || repoPart.Contains(".."))
        {
            throw Invalid(text, $"'{owner}/{repoPart}' is not a valid Hub repository id (letters, digits, '-', '_', '.')");
        }

        if (revision is not null && !IsValidRevision(revision))
        {
            throw Invalid(text, $"'@{revision}' is not a valid revision (a branch, tag, commit or refs/pr/<n>)");
        }

        if (quant is not null && !Quant().IsMatch(quant))
        {
            throw Invalid(text, $"':{quant}' is not a valid quantization (like Q4_K_M)");
        }

        if (path is not null)
        {
            path = CheckRelativePath(path, text);
        }

        return new ModelReference
        {
            Kind = ModelReferenceKind.HuggingFace,
            Text = text,
            Owner = owner,
            Repository = repoPart,
            Quantization = quant?.ToUpperInvariant(),
            FilePath = path,
            Revision = revision,
        };
    }

    /// <summary>
    /// The revision at the start of <paramref name="text"/> (after its <c>@</c>) and what follows it: three segments for
    /// <c>refs/...</c>, else one; it ends at <c>:</c> (a quantization) or the next <c>/</c> (a file path).
    /// </summary>
    static (string Revision, string After) TakeRevision(string text)
    {
        var segments = text.StartsWith("refs/", StringComparison.Ordinal) ? 3 : 1;
        var end = 0;
        for (var i = 0; i < segments; i++)
        {
            var next = text.IndexOfAny(new[] { '/', ':' }, end);
            if (next < 0)
            {
                end = text.Length;
                break;
            }

            end = next;
            if (text[next] == ':' || i == segments - 1)
            {
                break;
            }

            end++;
        }

        return (DecodeRevision(text[..end]), text[end..]);
    }

    /// <summary>A revision as written, percent-escapes (<c>%2F</c>) decoded once: the name the Hub knows.</summary>
    static string DecodeRevision(string written)
    {
        try
        {
            return Uri.UnescapeDataString(written);
        }
        catch (UriFormatException)
        {
            return written;
        }
    }

    /// <summary>
    /// A branch, tag, commit or Hub ref as git allows them: no empty, <c>.</c> or <c>..</c> segment, not rooted, no
    /// backslash, control character, space, <c>~^:?*[</c>; what is sent is escaped whole (<see cref="Sources.Hub.HubSettings.ResolveUrl"/>).
    /// </summary>
    static bool IsValidRevision(string revision) =>
        RevisionPattern().IsMatch(revision) && !revision.Contains("..", StringComparison.Ordinal)
        && revision.Split('/').All(s => s.Length > 0 && s != "." && !s.EndsWith(".lock", StringComparison.Ordinal));

    /// <summary>
    /// A path inside a model folder: relative, forward slashes, no empty, <c>.</c> or <c>..</c> segment, no drive, no
    /// NUL. Anything else would let a reference or a server's listing write outside the model's folder:
    /// UnsafeModelContent. Returns the path with backslashes refused rather than reinterpreted.
    /// </summary>
    public static string CheckRelativePath(string path, object? target = null)
    {
        var bad = path.Length == 0 || path.StartsWith('/') || path.Contains('\\') || path.Contains('\0') || path.Contains(':')
            || path.Split('/').Any(s => s.Length == 0 || s == "." || s == "..");
        if (bad)
        {
            throw Errors.PathLeavesModelFolder(path, target ?? path);
        }

        return path;
    }

    static ModelReference ParseOci(string text, string registry, string rest)
    {
        string? digest = null;
        string? tag = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!OciDigest().IsMatch(digest))
            {
                throw Invalid(text, $"'@{digest}' is not a digest (sha256:<64 hex digits>)");
            }

            digest = digest.ToLowerInvariant();
        }

        var colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!OciTag().IsMatch(tag))
            {
                throw Invalid(text, $"':{tag}' is not a valid tag");
            }
        }

        if (!OciRepository().IsMatch(rest))
        {
            throw Invalid(text, $"'{rest}' is not a valid repository name (lower-case path components)");
        }

        return new ModelReference
        {
            Kind = ModelReferenceKind.Oci,
            Text = text,
            Registry = registry.ToLowerInvariant(),
            Repository = rest,
            Tag = digest is null ? tag ?? "latest" : tag,
            Digest = digest,
        };
    }

    /// <summary>A registry host has a dot or a port, or is <c>localhost</c> (as Docker tells a registry from a namespace).</summary>
    static bool IsRegistryHost(string first) =>
        !first.Equals("hf.co", StringComparison.OrdinalIgnoreCase) && !first.Equals("huggingface.co", StringComparison.OrdinalIgnoreCase)
        && (first.Contains('.') || first.Contains(':') || first.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        && RegistryHost().IsMatch(first);

    static ModelLibraryException Invalid(string text, string why) => new(
        ErrorIds.InvalidModelId, $"'{text}' is not a model id or reference: {why}.",
        new Dictionary<string, object?> { ["reference"] = text },
        new[]
        {
            "Give a catalog id (Get-LibraryModel lists them), hf.co/<owner>/<repo>[:<quant>], hf.co/<owner>/<repo>/<file>, optionally with @<revision>,",
            "or an OCI reference <registry>/<repository>[:<tag>], or use Start-ModelDownload -Uri for a URL.",
        }, text);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")]
    private static partial Regex HubName();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._/+-]{0,254}$")]
    private static partial Regex RevisionPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]*")]
    private static partial Regex RepoNameChars();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Quant();

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex OciRepository();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex OciTag();

    [GeneratedRegex("^sha256:[0-9a-fA-F]{64}$")]
    private static partial Regex OciDigest();

    [GeneratedRegex("^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")]
    private static partial Regex RegistryHost();
}
