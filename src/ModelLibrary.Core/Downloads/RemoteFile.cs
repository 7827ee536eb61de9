using System.Globalization;
using ModelLibrary.Net;

namespace ModelLibrary.Downloads;

/// <summary>What the server says about the file before the transfer (HEAD).</summary>
internal sealed record RemoteFile(long? Length, bool AcceptsRanges, string? ETag, string? LastModified, Uri FinalUrl)
{
    /// <summary>
    /// HEAD through the retry pipeline. A server that refuses HEAD (405/501) is not an error: nothing is known
    /// then, and a single stream learns the rest. 404/401/403 fail here, before any body is requested.
    /// <paramref name="source"/>: the URL to ask (a mirror of the file), else the request's own.
    /// </summary>
    public static async Task<RemoteFile> ProbeAsync(HttpClient http, Polly.ResiliencePipeline pipeline, DownloadRequest download, CancellationToken cancellationToken,
        RequestLogin? login = null, Uri? source = null)
    {
        var url = source ?? download.Url;
        var modelId = download.ModelId;
        return await pipeline.ExecuteAsync(async token =>
        {
            // Every redirect hop is checked against the source's plain-http rule (Net.RedirectHandler).
            HttpResponseMessage response;
            try
            {
                // Inside the try: logging in may itself need the network (a registry token), and fail as transiently.
                response = await (login ?? new RequestLogin(null, null)).SendAsync(http,
                    () => new HttpRequestMessage(HttpMethod.Head, url).With(Net.HttpPolicy.ForDownload(modelId, download.AllowInsecureHttp)), url, token);
            }
            catch (Exception e) when (DownloadHttp.IsTransientNetworkError(e) && !token.IsCancellationRequested)
            {
                throw new TransientDownloadException($"Cannot reach {url.Host}: {e.Message}", inner: e);
            }

            using (response)
            {
                if ((int)response.StatusCode is 405 or 501)
                {
                    return new RemoteFile(null, false, null, null, url);
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw DownloadHttp.ForStatus(response, url, modelId);
                }

                if (Net.BoundedBody.IsHtml(response.Content))
                {
                    throw DownloadHttp.WebPage(response, url, modelId);
                }

                return FromResponse(response, url);
            }
        }, cancellationToken);
    }

    public static RemoteFile FromResponse(HttpResponseMessage response, Uri url) => new(
        response.Content.Headers.ContentLength,
        response.Headers.AcceptRanges.Contains("bytes"),
        response.Headers.ETag?.ToString(),
        response.Content.Headers.LastModified?.ToString("R", CultureInfo.InvariantCulture),
        response.RequestMessage?.RequestUri ?? url);

    /// <summary>
    /// True when the saved state describes this same file: same size, and the validators both sides know agree.
    /// Without any validator the bytes are trusted only when a checksum will check them at the end.
    /// </summary>
    public bool Matches(ResumeState state) =>
        state.TotalSize == Length
        && (ETag is null || state.ETag is null || ETag == state.ETag)
        && (LastModified is null || state.LastModified is null || LastModified == state.LastModified)
        && ((ETag ?? LastModified) is not null || state.Request.Checksum is not null);
}
