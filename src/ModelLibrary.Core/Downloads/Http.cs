using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using Polly;
using Polly.Retry;

namespace ModelLibrary.Downloads;

/// <summary>How the engine reads servers' answers (its client comes from <see cref="Net.HttpClients"/>).</summary>
internal static class DownloadHttp
{
    /// <summary>The proxy a request to <paramref name="url"/> goes through, or null for a direct connection.</summary>
    public static Uri? ProxyFor(IWebProxy? configured, Uri url)
    {
        var proxy = configured ?? HttpClient.DefaultProxy;
        return proxy.IsBypassed(url) ? null : proxy.GetProxy(url);
    }

    /// <summary>
    /// The error for a status that is not success: 408, 429 and 5xx (but 501/505) are worth retrying; the rest,
    /// 404/401/403 first of all, fail at once with the status in the message.
    /// </summary>
    public static Exception ForStatus(HttpResponseMessage response, Uri url, string modelId)
    {
        var status = (int)response.StatusCode;
        // The Hub says what went wrong in X-Error-Code (gated, missing repository, revision or file).
        if (Net.HubErrors.FromResponse(response, modelId) is { } hub)
        {
            return hub;
        }

        var text = $"HTTP {status} ({response.ReasonPhrase ?? response.StatusCode.ToString()}) from {Net.SafeUrl.Masked(url)}";

        if (status is 408 or 429 or (>= 500 and not 501 and not 505))
        {
            return new TransientDownloadException(text, status, RetryAfter(response));
        }

        return Errors.NetworkFailure($"Downloading '{modelId}' failed: {text}.", status, modelId,
            details: new Dictionary<string, object?> { ["model_id"] = modelId, ["url"] = Net.SafeUrl.Masked(url), ["http_status"] = status });
    }

    /// <summary>
    /// A success that is a web page (text/html): a login, licence or error page served with 200 in place of the file.
    /// Final: another try gets the same page.
    /// </summary>
    public static NetworkException WebPage(HttpResponseMessage response, Uri url, string modelId)
    {
        var finalUrl = response.RequestMessage?.RequestUri ?? url;
        return Errors.NetworkFailure(
            $"Downloading '{modelId}' failed: {Net.SafeUrl.Masked(finalUrl)} answered HTTP {(int)response.StatusCode} with a web page (text/html) instead of the model file; nothing of it was kept.",
            (int)response.StatusCode, modelId,
            details: new Dictionary<string, object?> { ["model_id"] = modelId, ["url"] = Net.SafeUrl.Masked(url), ["final_url"] = Net.SafeUrl.Masked(finalUrl), ["http_status"] = (int)response.StatusCode, ["content_type"] = response.Content.Headers.ContentType?.MediaType },
            resolutionSteps: new[]
            {
                "Open the URL in a browser: the page says what the server wants (a login, accepting a licence, or that the file moved).",
                "If the file moved, correct the catalog entry's download_url.",
            });
    }

    /// <summary>The wait a 429/503 asks for: the Hub's RateLimit header (resolve requests too) or Retry-After.</summary>
    static TimeSpan? RetryAfter(HttpResponseMessage response) => Net.RateLimitHeaders.WaitOf(response);

    /// <summary>Failures of the network that another try may cure (not TLS: a bad certificate stays bad).</summary>
    public static bool IsTransientNetworkError(Exception e) => e switch
    {
        HttpRequestException { InnerException: AuthenticationException } => false,
        HttpRequestException => true,
        IOException or SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>The validator for If-Range: a strong ETag, else Last-Modified (weak ETags may not be used there).</summary>
    public static void AddIfRange(HttpRequestMessage request, string? etag, string? lastModified)
    {
        if (etag is not null && !etag.StartsWith("W/", StringComparison.Ordinal) && EntityTagHeaderValue.TryParse(etag, out var tag))
        {
            request.Headers.IfRange = new RangeConditionHeaderValue(tag);
        }
        else if (lastModified is not null && DateTimeOffset.TryParse(lastModified, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var date))
        {
            request.Headers.IfRange = new RangeConditionHeaderValue(date);
        }
    }
}

/// <summary>A failure worth another try: connection lost, timeout, stall, 408/429/5xx.</summary>
internal sealed class TransientDownloadException : Exception
{
    public TransientDownloadException(string message, int? httpStatus = null, TimeSpan? retryAfter = null, Exception? inner = null)
        : base(message, inner)
    {
        HttpStatus = httpStatus;
        RetryAfter = retryAfter;
    }

    public int? HttpStatus { get; }
    public TimeSpan? RetryAfter { get; }
}

/// <summary>
/// The bytes on disk no longer fit what the server sends (a Range answered with 200, a changed ETag, a 416):
/// the download starts again from zero, as a single stream when <see cref="SingleStream"/>.
/// </summary>
internal sealed class RestartDownloadException : Exception
{
    public RestartDownloadException(string message, bool singleStream) : base(message) => SingleStream = singleStream;

    public bool SingleStream { get; }
}

/// <summary>Builds the Polly retry pipeline every request runs in.</summary>
internal static class RetryPipeline
{
    /// <summary>
    /// Exponential backoff with jitter for <see cref="TransientDownloadException"/> only (everything else is
    /// either final or a cancellation); a server's Retry-After replaces the computed delay.
    /// </summary>
    public static ResiliencePipeline Create(DownloadOptions options, Func<Exception, int, TimeSpan, ValueTask>? onRetry = null) => options.MaxRetryAttempts < 1
        ? ResiliencePipeline.Empty
        : new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<TransientDownloadException>(),
            MaxRetryAttempts = options.MaxRetryAttempts,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryBaseDelay,
            MaxDelay = options.RetryMaxDelay,
            DelayGenerator = args => new ValueTask<TimeSpan?>(
                args.Outcome.Exception is TransientDownloadException { RetryAfter: { } wait }
                    ? wait < options.MaxRetryAfter ? wait : options.MaxRetryAfter
                    : null),
            // Polly counts attempts from 0; the retry about to happen is AttemptNumber + 1.
            OnRetry = onRetry is null ? null : args => onRetry(args.Outcome.Exception!, args.AttemptNumber + 1, args.RetryDelay),
        }).Build();
}
