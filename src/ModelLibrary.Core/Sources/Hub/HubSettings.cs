using ModelLibrary.Catalog;

namespace ModelLibrary.Sources.Hub;

/// <summary>
/// Where the Hub is and who we are to it, read when a reference is resolved (so <c>$env:HF_TOKEN</c> set in the
/// session applies at once). As huggingface_hub's constants.py reads them: <c>HF_ENDPOINT</c> (default
/// https://huggingface.co), <c>HF_TOKEN</c>, <c>HF_HUB_OFFLINE</c> (1/ON/YES/TRUE).
/// </summary>
/// <remarks>
/// A registered <c>HuggingFace</c> source (<c>Register-ModelSource -Type HuggingFace -Uri &lt;endpoint&gt; [-Credential]</c>)
/// names the endpoint when <c>HF_ENDPOINT</c> is not set; its credential (password = token) is used for its endpoint
/// and wins over <c>HF_TOKEN</c> there. The token goes to the endpoint's host only (see <see cref="AuthorizationFor"/>).
/// </remarks>
public sealed record HubSettings(Uri Endpoint, string? Token, bool Offline, string SourceName, bool AllowInsecureHttp)
{
    public const string DefaultEndpoint = "https://huggingface.co";
    public const string DefaultSourceName = "huggingface";

    public static HubSettings Resolve(ModelCatalog catalog)
    {
        var registered = catalog.Records(ModelCatalog.HuggingFaceType);
        var fromEnvironment = Environment.GetEnvironmentVariable("HF_ENDPOINT") is { Length: > 0 } env ? env.TrimEnd('/') : null;
        var endpointText = fromEnvironment ?? registered.FirstOrDefault()?.Uri ?? DefaultEndpoint;
        if (!Uri.TryCreate(endpointText.TrimEnd('/') + "/", UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            throw Errors.InvalidConfiguration(fromEnvironment is not null ? "HF_ENDPOINT" : "the Uri of the registered HuggingFace source", endpointText,
                "the Hub endpoint must be an http(s) URL",
                new[] { "Set HF_ENDPOINT to https://huggingface.co or your mirror's URL, or remove it.", "Or register the Hub again with Register-ModelSource -Type HuggingFace -Uri https://huggingface.co -Force." });
        }

        var source = registered.FirstOrDefault(r => SameOrigin(new Uri(r.Uri.TrimEnd('/') + "/"), endpoint));
        var token = source?.Credential?.Secret is { Length: > 0 } secret ? secret : EnvironmentToken();
        return new HubSettings(endpoint, token, IsTrue(Environment.GetEnvironmentVariable("HF_HUB_OFFLINE")),
            source?.Name ?? DefaultSourceName, source?.AllowInsecureHttp ?? false);
    }

    /// <summary>The record's default text would print the token; this says only whether there is one.</summary>
    public override string ToString() =>
        $"{Endpoint} (source {SourceName}, {(Token is null ? "no token" : "token ***")}{(Offline ? ", offline" : "")}{(AllowInsecureHttp ? ", plain http allowed" : "")})";

    /// <summary>The Bearer token for a request to the Hub's own host; null for any other host (a CDN, a mirror).</summary>
    public System.Net.Http.Headers.AuthenticationHeaderValue? AuthorizationFor(Uri url) =>
        Token is not null && SameOrigin(url, Endpoint) ? new("Bearer", Token) : null;

    /// <summary>The repository's page, where a gated model's licence is accepted.</summary>
    public string RepositoryPage(string repoId) => new Uri(Endpoint, repoId).AbsoluteUri;

    public Uri Api(string relative) => new(Endpoint, relative);

    /// <summary>
    /// <c>{endpoint}/{repo}/resolve/{revision}/{path}</c>: the revision escaped whole (<see cref="RevisionSegment"/>), the
    /// path segment by segment with its slashes kept, as file_download.py's <c>hf_hub_url</c> writes it
    /// (<c>revision=quote(revision, safe="")</c>, <c>filename=quote(filename)</c>).
    /// </summary>
    public Uri ResolveUrl(string repoId, string revision, string path) =>
        new(Endpoint, $"{repoId}/resolve/{RevisionSegment(revision)}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>
    /// A revision as one URL path segment: every reserved character escaped, <c>/</c> included (<c>refs/pr/1</c> →
    /// <c>refs%2Fpr%2F1</c>), as huggingface_hub's hf_api.py sends it (<c>quote(revision, safe="")</c> in
    /// <c>model_info</c> and <c>list_repo_tree</c>). Python's quote and EscapeDataString keep the same unreserved set.
    /// </summary>
    public static string RevisionSegment(string revision) => Uri.EscapeDataString(revision);

    static string? EnvironmentToken() =>
        Environment.GetEnvironmentVariable("HF_TOKEN") is { Length: > 0 } t ? t
        : Environment.GetEnvironmentVariable("HUGGING_FACE_HUB_TOKEN") is { Length: > 0 } legacy ? legacy : null;

    static bool IsTrue(string? value) => value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;
}
