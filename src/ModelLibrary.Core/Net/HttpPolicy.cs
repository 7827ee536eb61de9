namespace ModelLibrary.Net;

/// <summary>
/// How one request may travel: which plain-http hosts are allowed, how many redirects are followed, and what the
/// request is for (named in the errors). Attach it with <see cref="HttpPolicyExtensions.With"/>; a request without
/// one gets <see cref="Default"/> (https, or http to loopback; 10 redirects).
/// </summary>
public sealed record HttpPolicy
{
    internal static readonly HttpRequestOptionsKey<HttpPolicy> Key = new("ModelLibrary.HttpPolicy");

    public static HttpPolicy Default { get; } = new();

    /// <summary>Plain http to any host (a source registered with <c>-AllowInsecureHttp</c>). https→http stays refused.</summary>
    public bool AllowInsecureHttp { get; init; }

    /// <summary>A host the user named themselves (a provider endpoint): plain http to it is allowed, not to hosts it redirects to.</summary>
    public string? TrustedPlainHttpHost { get; init; }

    /// <summary>Redirects followed before giving up (curl and browsers stop near 20; the Hub needs 1 or 2).</summary>
    public int MaxRedirects { get; init; } = 10;

    /// <summary>
    /// False: a redirect is answered to the caller as it came, not followed (to read what the first host states on
    /// it, as huggingface_hub reads X-Linked-Etag and X-Linked-Size on the Hub's redirect to its CDN).
    /// </summary>
    public bool FollowRedirects { get; init; } = true;

    /// <summary>What the request is for, as errors say it after "Refusing to" or "Cannot": "download 'x'", "read model source 'team'".</summary>
    public string Purpose { get; init; } = "follow the request";

    /// <summary>The error's target (model id, source name).</summary>
    public object? Target { get; init; }

    /// <summary>The key naming the target in ErrorInfo.Details (<c>model_id</c>, <c>source</c>).</summary>
    public string TargetDetail { get; init; } = "target";

    /// <summary>The policy of a model's download; plain http beyond loopback only when its source allows it.</summary>
    public static HttpPolicy ForDownload(string modelId, bool allowInsecureHttp) =>
        new() { Purpose = $"download '{modelId}'", Target = modelId, TargetDetail = "model_id", AllowInsecureHttp = allowInsecureHttp };

    /// <summary>The policy of a catalog's fetch; plain http beyond loopback only when the source was registered so.</summary>
    public static HttpPolicy ForSource(string sourceName, bool allowInsecureHttp) =>
        new() { Purpose = $"read model source '{sourceName}'", Target = sourceName, TargetDetail = "source", AllowInsecureHttp = allowInsecureHttp };

    /// <summary>
    /// Throws <c>InsecureSource</c> when a request (or, with <paramref name="redirectedFrom"/>, a redirect hop) may not
    /// go to <paramref name="url"/>: a scheme other than http(s), plain http the rule does not allow, or credentials in
    /// the URL that would travel over plain http.
    /// </summary>
    public void Ensure(Uri url, Uri? redirectedFrom = null)
    {
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw NetErrors.UnsupportedScheme(this, url, redirectedFrom);
        }

        // Said first: allowing plain http (-AllowInsecureHttp) would still not let credentials travel over it.
        if (SafeUrl.HasUserInfo(url) && !PlainHttpRule.MaySendCredentials(url))
        {
            throw NetErrors.CredentialsOverPlainHttp(this, url);
        }

        if (!PlainHttpRule.Allows(url, AllowInsecureHttp, TrustedPlainHttpHost))
        {
            throw NetErrors.PlainHttp(this, url, redirectedFrom);
        }
    }

    internal static HttpPolicy Of(HttpRequestMessage request) =>
        request.Options.TryGetValue(Key, out var policy) ? policy : Default;
}

public static class HttpPolicyExtensions
{
    /// <summary>Attaches the policy every hop of this request is checked against.</summary>
    public static HttpRequestMessage With(this HttpRequestMessage request, HttpPolicy policy)
    {
        request.Options.Set(HttpPolicy.Key, policy);
        return request;
    }
}
