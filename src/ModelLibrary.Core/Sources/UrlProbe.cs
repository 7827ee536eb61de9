using ModelLibrary.Net;
using System.Net.Http.Headers;

namespace ModelLibrary.Sources;

/// <summary>
/// What a server states about a file before it is fetched, read from the first answer without following its redirect:
/// the Hub answers a resolve URL with <c>X-Linked-Etag</c> (the LFS SHA-256, quoted) and <c>X-Linked-Size</c> on the
/// redirect itself (huggingface_hub file_download.py, <c>get_hf_file_metadata</c>).
/// </summary>
internal static class UrlProbe
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>A rate-limited probe (429) is asked again this many times, waiting as the answer says (at most <see cref="MaxWait"/>).</summary>
    const int RateLimitRetries = 3;
    static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);

    public static async Task<(string? Sha256, long? Size)> StatedAsync(Uri url, string modelId, Func<Uri, AuthenticationHeaderValue?> authorize, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await HeadAsync(url, modelId, authorize, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode && (int)response.StatusCode is not (>= 300 and < 400))
            {
                // The download itself reports the failure, with the engine's retries and messages.
                return (null, null);
            }

            var linked = First(response, "X-Linked-Etag")?.Trim().TrimStart('W', '/').Trim('"');
            var size = long.TryParse(First(response, "X-Linked-Size"), out var s) ? s : response.Content.Headers.ContentLength;
            return (Sha256Checksum.Normalize(linked), size);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or ModelLibraryException && !cancellationToken.IsCancellationRequested)
        {
            return (null, null);
        }
    }

    /// <summary>
    /// HEAD without following the redirect; a 429 waits as RateLimit or Retry-After says and asks again, since what the
    /// Hub states here (the SHA-256 the download is then checked against) is not asked for anywhere else.
    /// </summary>
    static async Task<HttpResponseMessage> HeadAsync(Uri url, string modelId, Func<Uri, AuthenticationHeaderValue?> authorize, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Timeout);
            using var request = new HttpRequestMessage(HttpMethod.Head, url).With(Net.HttpPolicy.ForDownload(modelId, allowInsecureHttp: false) with { FollowRedirects = false });
            request.Headers.Authorization = authorize(url);
            var response = await Net.HttpClients.Shared.SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode != System.Net.HttpStatusCode.TooManyRequests || attempt == RateLimitRetries)
            {
                return response;
            }

            var wait = RateLimitHeaders.WaitOf(response) ?? TimeSpan.FromSeconds(1);
            response.Dispose();
            await Task.Delay(wait < MaxWait ? wait : MaxWait, cancellationToken).ConfigureAwait(false);
        }
    }

    static string? First(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
}
