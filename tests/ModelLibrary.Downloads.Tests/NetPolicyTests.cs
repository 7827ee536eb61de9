using System.Net;
using System.Text.Json;
using ModelLibrary.Catalog;
using ModelLibrary.Net;
using ModelLibrary.TestServer;

namespace ModelLibrary.Downloads.Tests;

/// <summary>
/// Issue 10's one HTTP client factory and one plain-http rule, and issue 9's redirect, catalog-size and credential
/// items, against the loopback server. The redirect rules follow huggingface_hub (a token is never sent to the host
/// a redirect leads to) and requests' <c>should_strip_auth</c> (same host, or an http→https upgrade, keeps it).
/// </summary>
public sealed class NetPolicyTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/x", true)]
    [InlineData("http://127.0.0.2/x", true)]
    [InlineData("http://localhost/x", true)]
    [InlineData("http://LOCALHOST:1/x", true)]
    [InlineData("http://[::1]:8080/x", true)]
    [InlineData("http://[::ffff:127.0.0.1]/x", true)]
    [InlineData("http://127.0.0.1.nip.io/x", false)]
    [InlineData("http://localhost.invalid/x", false)]
    [InlineData("http://10.0.0.1/x", false)]
    [InlineData("http://models.invalid/x", false)]
    public void One_loopback_rule(string url, bool loopback)
    {
        Assert.Equal(loopback, PlainHttpRule.IsLoopback(new Uri(url)));
        Assert.Equal(loopback, PlainHttpRule.Allows(new Uri(url), allowInsecureHttp: false));
        Assert.True(PlainHttpRule.Allows(new Uri(url.Replace("http:", "https:")), allowInsecureHttp: false));
    }

    [Fact]
    public void Every_client_says_who_it_is()
    {
        using var client = HttpClients.Create();
        Assert.Matches(@"^ModelLibrary/\d+\.\d+\.\d+$", HttpClients.UserAgent);
        Assert.Equal(HttpClients.UserAgent, client.DefaultRequestHeaders.UserAgent.ToString());
        Assert.Equal(HttpClients.UserAgent, HttpClients.Shared.DefaultRequestHeaders.UserAgent.ToString());
    }

    [Theory]
    [InlineData("https://alice:Sup3rS3cret@host.invalid/a?b=1", "https://***@host.invalid/a?b=1")]
    [InlineData("http://bob@host.invalid/", "http://***@host.invalid/")]
    [InlineData("https://host.invalid/a@b", "https://host.invalid/a@b")]
    public void Userinfo_is_masked(string url, string masked)
    {
        Assert.Equal(masked, SafeUrl.Masked(new Uri(url)));
        Assert.Equal($"failed: {masked} answered", SafeUrl.MaskText($"failed: {url} answered"));
    }

    [Fact]
    public async Task An_https_URL_redirected_to_plain_http_is_refused_and_not_followed()
    {
        // No TLS server here: the socket handler is stood in for by one that answers the https hop with a redirect
        // and fails the test if anything else is asked of it.
        var network = new ScriptedNetwork(request => request.RequestUri!.Scheme == "https"
            ? Redirect("http://127.0.0.1:9/model.gguf")
            : throw new InvalidOperationException("The plain http hop was followed."));
        using var client = new HttpClient(new RedirectHandler(network));
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://models.invalid/model.gguf").With(HttpPolicy.ForDownload("m", allowInsecureHttp: true));

        var error = await Assert.ThrowsAsync<ModelSecurityException>(() => client.SendAsync(request));

        Assert.Equal(ErrorIds.InsecureSource, error.ErrorId);
        Assert.Contains("https URL https://models.invalid/model.gguf redirected to plain http", error.Message);
        Assert.Equal(1, network.Requests);
    }

    [Fact]
    public async Task Authorization_goes_to_the_same_host_only()
    {
        await using var server = await LoopbackServer.StartAsync();
        var port = server.BaseUri.Port;
        using var client = HttpClients.Create();
        var start = $"http://alice:Sup3rS3cret@127.0.0.1:{port}/redirect?to=";

        var sameHost = await HeadersAfterAsync(client, start + Uri.EscapeDataString("/_echo/headers"));
        // 'localhost' is another host name (though loopback): the credentials stay behind.
        var otherHost = await HeadersAfterAsync(client, start + Uri.EscapeDataString($"http://localhost:{port}/_echo/headers"));

        Assert.Equal("Basic " + Convert.ToBase64String("alice:Sup3rS3cret"u8.ToArray()), sameHost["Authorization"]);
        Assert.False(otherHost.ContainsKey("Authorization"));
        Assert.Equal(HttpClients.UserAgent, otherHost["User-Agent"]);
    }

    [Fact]
    public async Task Too_many_redirects_are_refused()
    {
        await using var server = await LoopbackServer.StartAsync();
        var url = server.Url("gen/10/x").ToString();
        for (var i = 0; i < 4; i++)
        {
            url = server.Url("redirect?to=" + Uri.EscapeDataString(url)).ToString();
        }

        using var client = HttpClients.Create();
        using var request = new HttpRequestMessage(HttpMethod.Get, url).With(HttpPolicy.ForDownload("m", false) with { MaxRedirects = 3 });

        var error = await Assert.ThrowsAsync<NetworkException>(() => client.SendAsync(request));

        Assert.Contains("more than 3 redirects", error.Message);
    }

    [Fact]
    public async Task An_endless_chunked_catalog_is_cut_at_32_MB_of_bytes_read()
    {
        await using var server = await LoopbackServer.StartAsync();
        var source = new RegisteredCatalogSource(Source("endless", server.Url("endless-catalog.json")), HttpClients.Shared);

        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => source.ReadAsync(CancellationToken.None));

        Assert.Equal(ErrorIds.ModelSourceUnavailable, error.ErrorId);
        Assert.Contains("more than 32 MB", error.Message);
    }

    [Fact]
    public async Task A_catalog_redirected_to_plain_http_elsewhere_is_refused_though_registering_it_there_would_be()
    {
        await using var server = await LoopbackServer.StartAsync();
        var elsewhere = $"http://catalogs.invalid:{server.BaseUri.Port}/catalog.json";
        var source = new RegisteredCatalogSource(Source("hop", server.Url("redirect?to=" + Uri.EscapeDataString(elsewhere))), HttpClients.Shared);

        var error = await Assert.ThrowsAsync<ModelSecurityException>(() => source.ReadAsync(CancellationToken.None));

        Assert.Equal(ErrorIds.InsecureSource, error.ErrorId);
        Assert.Contains("model source 'hop'", error.Message);
        Assert.Contains("catalogs.invalid", error.Message);
    }

    [Fact]
    public async Task A_catalog_that_answers_with_a_web_page_says_so()
    {
        await using var server = await LoopbackServer.StartAsync();
        var source = new RegisteredCatalogSource(Source("page", server.Url("gen/1000/x?htmlOnGet=1")), HttpClients.Shared);

        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => source.ReadAsync(CancellationToken.None));

        Assert.Contains("web page (text/html)", error.Message);
    }

    static ModelSourceInfo Source(string name, Uri uri) => new() { Name = name, Uri = uri.ToString(), Type = ModelCatalog.HttpType };

    static async Task<Dictionary<string, string>> HeadersAfterAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        response.EnsureSuccessStatusCode();
        return JsonSerializer.Deserialize<Dictionary<string, string>>(await response.Content.ReadAsStringAsync())!
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);
    }

    static HttpResponseMessage Redirect(string location) => new(HttpStatusCode.Found) { Headers = { Location = new Uri(location) } };

    sealed class ScriptedNetwork : HttpMessageHandler
    {
        readonly Func<HttpRequestMessage, HttpResponseMessage> answer;
        int requests;

        public ScriptedNetwork(Func<HttpRequestMessage, HttpResponseMessage> answer) => this.answer = answer;

        public int Requests => requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref requests);
            return Task.FromResult(answer(request));
        }
    }
}
