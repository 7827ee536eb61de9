using System.Net;
using System.Net.Http.Headers;

namespace ModelLibrary.Net;

/// <summary>
/// Follows redirects itself (the socket handler's own following is off) so that every hop is checked against the
/// request's <see cref="HttpPolicy"/>: the plain-http rule, no https→http, a bounded number of hops, no loops.
/// Credentials in the URL become basic auth (https or loopback only). <c>Authorization</c> is dropped when a
/// redirect leaves the original host, as huggingface_hub and Docker's registry client do: a token for the Hub or a
/// registry must never reach the storage host it redirects to (the redirect's own URL carries what that host needs).
/// </summary>
internal sealed class RedirectHandler : DelegatingHandler
{
    public RedirectHandler(HttpMessageHandler inner) : base(inner)
    {
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var policy = HttpPolicy.Of(request);
        policy.Ensure(request.RequestUri!);
        var (url, credentials) = SafeUrl.SplitCredentials(request.RequestUri!);
        if (credentials is not null)
        {
            request.RequestUri = url;
            request.Headers.Authorization ??= new AuthenticationHeaderValue("Basic", SafeUrl.BasicParameter(credentials));
        }

        var origin = url;
        var first = request;
        var hops = new List<Uri> { url };
        while (true)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!policy.FollowRedirects || !IsRedirect(response.StatusCode) || response.Headers.Location is not { } location)
            {
                return response;
            }

            var current = request.RequestUri!;
            var next = location.IsAbsoluteUri ? location : new Uri(current, location);
            if (next.Fragment.Length > 0)
            {
                next = new UriBuilder(next) { Fragment = "" }.Uri;
            }

            // A method that must be kept with a body that cannot be sent twice: the caller sees the redirect.
            if (request.Content is not null && response.StatusCode is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect)
            {
                return response;
            }

            response.Dispose();
            // Credentials in a Location are never taken: they would be sent to a host nobody chose.
            next = SafeUrl.SplitCredentials(next).Url;
            if (hops.Contains(next))
            {
                throw NetErrors.RedirectLoop(policy, hops, next);
            }

            if (hops.Count > policy.MaxRedirects)
            {
                throw NetErrors.TooManyRedirects(policy, hops, next);
            }

            if (current.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp)
            {
                throw NetErrors.Downgrade(policy, next, current);
            }

            policy.Ensure(next, current);
            var following = Follow(request, response.StatusCode, next, keepAuthorization: SameOrigin(origin, next));
            if (!ReferenceEquals(request, first))
            {
                request.Dispose();
            }

            request = following;
            hops.Add(next);
        }
    }

    static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// <summary>
    /// Same host and port; an upgrade from http:80 to https:443 on the same host keeps credentials too (as requests'
    /// <c>should_strip_auth</c> does).
    /// </summary>
    static bool SameOrigin(Uri origin, Uri next) =>
        string.Equals(origin.IdnHost, next.IdnHost, StringComparison.OrdinalIgnoreCase)
        && (origin.Port == next.Port || (origin.Scheme == Uri.UriSchemeHttp && origin.IsDefaultPort && next.Scheme == Uri.UriSchemeHttps && next.IsDefaultPort));

    /// <summary>
    /// The request for the next hop: 303 (and 301/302 after anything but GET/HEAD) becomes GET without a body, as
    /// browsers and .NET's own redirect handling do; 307/308 keep the method.
    /// </summary>
    static HttpRequestMessage Follow(HttpRequestMessage previous, HttpStatusCode status, Uri next, bool keepAuthorization)
    {
        var method = previous.Method;
        if ((status == HttpStatusCode.SeeOther && method != HttpMethod.Head)
            || (status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found && method != HttpMethod.Get && method != HttpMethod.Head))
        {
            method = HttpMethod.Get;
        }

        var following = new HttpRequestMessage(method, next) { Version = previous.Version, VersionPolicy = previous.VersionPolicy };
        foreach (var header in previous.Headers)
        {
            if (!keepAuthorization && header.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            following.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        foreach (var option in previous.Options)
        {
            ((IDictionary<string, object?>)following.Options)[option.Key] = option.Value;
        }

        return following;
    }
}
