using System.Net;
using System.Net.Http.Headers;

namespace ModelLibrary.Downloads;

/// <summary>
/// How the engine logs a request in: <see cref="DownloadOptions.Authorize"/> before it is sent, and, when the server
/// answers 401 to a request that carried a login (a registry's bearer token that expired or was revoked during a long
/// download), <see cref="DownloadOptions.Reauthorize"/> once for a fresh one, with which the request is sent again;
/// a refusal after that (or a 403) is handed to the hook as final, so it can say who refused and what to do.
/// </summary>
internal sealed record RequestLogin(
    Func<Uri, CancellationToken, ValueTask<AuthenticationHeaderValue?>>? Authorize,
    Func<Uri, HttpResponseMessage, bool, CancellationToken, ValueTask<AuthenticationHeaderValue?>>? Reauthorize)
{
    public static RequestLogin From(DownloadOptions options) => new(options.Authorize, options.Reauthorize);

    /// <summary>
    /// Sends <paramref name="create"/>'s request logged in; a 401 to a logged-in request is answered once with a fresh
    /// login. A refusal after that, or a 403, goes to the hook as final (it may throw a clearer error), then is returned.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpClient http, Func<HttpRequestMessage> create, Uri url, CancellationToken cancellationToken)
    {
        var request = create();
        request.Headers.Authorization = Authorize is null ? null : await Authorize(url, cancellationToken);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!IsRefusal(response) || request.Headers.Authorization is null || Reauthorize is null)
        {
            return response;
        }

        var fresh = response.StatusCode == HttpStatusCode.Unauthorized ? await Reauthorize(url, response, false, cancellationToken) : null;
        if (fresh is null)
        {
            await Reauthorize(url, response, true, cancellationToken);
            return response;
        }

        response.Dispose();
        var again = create();
        again.Headers.Authorization = fresh;
        response = await http.SendAsync(again, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (IsRefusal(response))
        {
            await Reauthorize(url, response, true, cancellationToken);
        }

        return response;
    }

    static bool IsRefusal(HttpResponseMessage response) => response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
}
