using System.Net;
using System.Net.Http.Headers;

namespace ModelLibrary.Net;

/// <summary>
/// The one place Core makes HTTP clients: catalogs, downloads, provider probes, the Hub and registries. Every
/// client sends <see cref="UserAgent"/> and has its redirects followed by <see cref="RedirectHandler"/>, which
/// checks each hop against the request's <see cref="HttpPolicy"/> (attach one with
/// <c>request.With(HttpPolicy.ForDownload(...))</c>; without one, https or http to loopback only).
/// </summary>
/// <example><code>
/// var http = HttpClients.Shared;                                  // catalogs, Hub, registries
/// using var request = new HttpRequestMessage(HttpMethod.Get, url).With(HttpPolicy.ForSource(name, allowInsecure));
/// using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
/// </code></example>
public static class HttpClients
{
    /// <summary><c>ModelLibrary/&lt;assembly version&gt;</c>, on every request.</summary>
    public static string UserAgent { get; } = "ModelLibrary/" + (typeof(HttpClients).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    static readonly Lazy<HttpClient> shared = new(() => Create());

    /// <summary>
    /// One client for the process's requests (connection pooling across cmdlets, the system proxy). Never dispose it.
    /// No timeout of its own: each caller bounds its requests with a token.
    /// </summary>
    public static HttpClient Shared => shared.Value;

    /// <summary>
    /// A new client (dispose it with its owner). <paramref name="proxy"/> null means the system's (HTTPS_PROXY,
    /// HTTP_PROXY, NO_PROXY on Linux and macOS, the system settings on Windows).
    /// </summary>
    public static HttpClient Create(IWebProxy? proxy = null, TimeSpan? connectTimeout = null)
    {
        var client = new HttpClient(CreateHandler(proxy, connectTimeout), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(ProductInfoHeaderValue.Parse(UserAgent));
        return client;
    }

    /// <summary>The handler chain: <see cref="RedirectHandler"/> over a socket handler that never follows redirects itself.</summary>
    public static HttpMessageHandler CreateHandler(IWebProxy? proxy = null, TimeSpan? connectTimeout = null) =>
        new RedirectHandler(CreateSocketsHandler(proxy, connectTimeout));

    /// <remarks>
    /// With <c>Proxy = null</c> and <c>UseProxy</c>, the handler asks <see cref="HttpClient.DefaultProxy"/>. No
    /// decompression: byte ranges must address the stored bytes. HTTP/1.1 (the default version): parallel parts use
    /// separate TCP connections, which is what makes them faster than one stream on a long fat pipe.
    /// </remarks>
    internal static SocketsHttpHandler CreateSocketsHandler(IWebProxy? proxy = null, TimeSpan? connectTimeout = null) => new()
    {
        UseProxy = true,
        Proxy = proxy,
        AutomaticDecompression = DecompressionMethods.None,
        AllowAutoRedirect = false,
        ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(30),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
    };
}
