using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using Polly;
using Polly.Retry;

namespace ModelLibrary.Downloads;

/// <summary>The HTTP client the engine uses, and how it reads servers' answers.</summary>
internal static class DownloadHttp
{
    public static HttpClient CreateClient(IWebProxy? proxy)
    {
        var handler = CreateHandler(proxy);
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("ModelLibrary", typeof(DownloadHttp).Assembly.GetName().Version?.ToString(3) ?? "1.0"));
        return client;
    }

    /// <remarks>
    /// The proxy is the system's unless one is given: with <c>Proxy = null</c> and <c>UseProxy</c>, the handler asks
    /// <see cref="HttpClient.DefaultProxy"/>, which reads HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY on Linux and
    /// macOS and the system settings on Windows. No decompression: byte ranges must address the stored bytes.
    /// HTTP/1.1 (the default version): parallel parts then use separate TCP connections, which is what makes
    /// them faster than one stream on a long fat pipe.
    /// </remarks>
    public static SocketsHttpHandler CreateHandler(IWebProxy? proxy) => new()
    {
        UseProxy = true,
        Proxy = proxy,
        AutomaticDecompression = DecompressionMethods.None,
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 10,
        ConnectTimeout = TimeSpan.FromSeconds(30),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
    };

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
        if (Sources.Hub.HubErrors.FromResponse(response, modelId) is { } hub)
        {
            return hub;
        }

        var text = $"HTTP {status} ({response.ReasonPhrase ?? response.StatusCode.ToString()}) from {url}";
        if (status is 408 or 429 or (>= 500 and not 501 and not 505))
        {
            return new TransientDownloadException(text, status, RetryAfter(response));
        }

        return new NetworkException($"Downloading '{modelId}' failed: {text}.", status, modelId,
            details: new Dictionary<string, object?> { ["model_id"] = modelId, ["url"] = url.ToString(), ["http_status"] = status });
    }

    static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

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
    public static ResiliencePipeline Create(DownloadOptions options) => options.MaxRetryAttempts < 1
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
        }).Build();
}
