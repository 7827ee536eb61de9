using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ModelLibrary.TestServer;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Point 8: the engine goes through the system proxy, which HTTP_PROXY/HTTPS_PROXY/NO_PROXY set.</summary>
public sealed class ProxyTests
{
    [Fact]
    public void The_handler_uses_the_system_default_proxy_unless_one_is_given()
    {
        using var handler = ModelLibrary.Net.HttpClients.CreateSocketsHandler(null);

        Assert.True(handler.UseProxy);
        Assert.Null(handler.Proxy); // SocketsHttpHandler then asks HttpClient.DefaultProxy
        Assert.Equal(DecompressionMethods.None, handler.AutomaticDecompression);
        Assert.False(handler.AllowAutoRedirect); // RedirectHandler follows them, checking every hop
    }

    [Fact]
    public async Task Downloads_go_through_the_system_default_proxy()
    {
        await using var lib = await CreateAsync();
        await using var proxy = await CountingProxy.StartAsync(upstream: lib.Server.BaseUri);
        var previous = HttpClient.DefaultProxy;
        // BypassOnLocal keeps other tests' 127.0.0.1 traffic direct while this one runs.
        HttpClient.DefaultProxy = new WebProxy(proxy.Uri, BypassOnLocal: true);
        try
        {
            var manager = lib.NewManager();
            var model = lib.GenModel("proxied", 300 * KiB);
            model.DownloadUrl = $"http://models.test:{lib.Server.BaseUri.Port}/gen/{300 * KiB}/proxied";

            Assert.Equal(proxy.Uri, manager.ResolveProxy(new Uri(model.DownloadUrl)));
            var task = await manager.DownloadAsync(model, allowInsecureHttp: true);

            Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
            Assert.NotEmpty(proxy.RequestLines);
            Assert.All(proxy.RequestLines, line => Assert.Contains("http://models.test:", line));
            Assert.Equal(300 * KiB, lib.Server.Stats.BytesServed);
        }
        finally
        {
            HttpClient.DefaultProxy = previous;
        }
    }

    [Fact]
    public async Task HTTP_PROXY_and_NO_PROXY_decide_the_system_proxy()
    {
        Assert.Equal("http://127.0.0.1:3128/", await PrintProxyAsync("http://models.example.com/x.gguf", ("HTTP_PROXY", "http://127.0.0.1:3128")));
        Assert.Equal("http://127.0.0.1:3129/", await PrintProxyAsync("https://models.example.com/x.gguf", ("HTTPS_PROXY", "http://127.0.0.1:3129")));
        // .NET matches NO_PROXY entries exactly, or as a domain suffix when they start with a dot.
        Assert.Equal("direct", await PrintProxyAsync("http://models.example.com/x.gguf", ("HTTP_PROXY", "http://127.0.0.1:3128"), ("NO_PROXY", "localhost,.example.com")));
        Assert.Equal("direct", await PrintProxyAsync("http://models.example.com/x.gguf", ("HTTP_PROXY", "http://127.0.0.1:3128"), ("NO_PROXY", "models.example.com")));
    }

    /// <summary>
    /// HttpClient.DefaultProxy reads the environment once per process, so the variables are checked in a fresh
    /// process: the test server's <c>--print-proxy</c> prints what DefaultProxy picks.
    /// </summary>
    static async Task<string> PrintProxyAsync(string url, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(typeof(LoopbackServer).Assembly.Location);
        start.ArgumentList.Add("--print-proxy");
        start.ArgumentList.Add(url);
        foreach (var name in new[] { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
        return output.Trim();
    }

    /// <summary>
    /// A minimal forward proxy: reads the first request of each connection (absolute-form URI), records it,
    /// connects to <c>upstream</c> for the host <c>models.test</c> (else to the named host), and relays bytes.
    /// </summary>
    sealed class CountingProxy : IAsyncDisposable
    {
        readonly TcpListener listener;
        readonly Uri upstream;
        readonly CancellationTokenSource stop = new();
        Task? accepting;

        CountingProxy(TcpListener listener, Uri upstream)
        {
            this.listener = listener;
            this.upstream = upstream;
            Uri = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        }

        public Uri Uri { get; }
        public ConcurrentQueue<string> RequestLines { get; } = new();

        public static Task<CountingProxy> StartAsync(Uri upstream)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var proxy = new CountingProxy(listener, upstream);
            proxy.accepting = proxy.AcceptAsync();
            return Task.FromResult(proxy);
        }

        async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await listener.AcceptTcpClientAsync(stop.Token);
                    _ = Task.Run(() => RelayAsync(client));
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        async Task RelayAsync(TcpClient client)
        {
            using (client)
            {
                var downstream = client.GetStream();
                var head = await ReadHeadAsync(downstream);
                if (head is null)
                {
                    return;
                }

                var requestLine = Encoding.ASCII.GetString(head).Split("\r\n")[0];
                RequestLines.Enqueue(requestLine);
                var target = new Uri(requestLine.Split(' ')[1]);
                using var server = new TcpClient();
                await server.ConnectAsync(target.Host == "models.test" ? upstream.Host : target.Host, target.Port);
                var upstreamStream = server.GetStream();
                await upstreamStream.WriteAsync(head);
                var up = downstream.CopyToAsync(upstreamStream, stop.Token);
                var down = upstreamStream.CopyToAsync(downstream, stop.Token);
                await Task.WhenAny(up, down);
            }
        }

        static async Task<byte[]?> ReadHeadAsync(NetworkStream stream)
        {
            var buffer = new List<byte>();
            var one = new byte[1];
            while (await stream.ReadAsync(one) == 1)
            {
                buffer.Add(one[0]);
                if (buffer.Count >= 4 && buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n')
                {
                    return buffer.ToArray();
                }
            }

            return null;
        }

        public async ValueTask DisposeAsync()
        {
            stop.Cancel();
            listener.Stop();
            if (accepting is not null)
            {
                await accepting;
            }
        }
    }
}
