using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ModelLibrary.Compatibility.Tests;

/// <summary>
/// A Kestrel server on 127.0.0.1 speaking the Ollama (/api/tags), OpenAI-compatible (/v1/models) and llama-server
/// (/health) APIs at its root; under /broken they answer 500, under /stall they never answer, under /other they
/// answer plain text, under /moved they redirect to plain http on another host.
/// </summary>
public sealed class LoopbackServer : IAsyncLifetime
{
    WebApplication? app;

    public Uri BaseAddress { get; private set; } = null!;
    public int Port => BaseAddress.Port;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
        app = builder.Build();

        app.MapGet("/api/tags", () => Results.Json(new
        {
            models = new[]
            {
                new { name = "llama3.2:1b", model = "llama3.2:1b", size = 1321098329L },
                new { name = "nomic-embed-text:latest", model = "nomic-embed-text:latest", size = 274302450L },
            },
        }));
        app.MapGet("/v1/models", () => Results.Json(new
        {
            @object = "list",
            data = new[] { new { id = "Qwen/Qwen2.5-0.5B-Instruct", @object = "model", owned_by = "vllm" } },
        }));
        app.MapGet("/health", () => Results.Json(new { status = "ok" }));
        app.MapGet("/broken/{**rest}", () => Results.StatusCode(500));
        app.MapGet("/stall/{**rest}", async (HttpContext context) =>
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        });
        app.MapGet("/other/{**rest}", () => Results.Text("hello, I am not Ollama"));
        // A server that sends its API elsewhere over plain http (the other host never resolves: .invalid).
        app.MapGet("/moved/{**rest}", (HttpContext context) => Results.Redirect($"http://ollama.invalid:{context.Connection.LocalPort}/api/tags"));

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);

        // Warm up (JIT, routing) so the first probe in a test is not slower than its short timeout.
        using var client = new HttpClient { BaseAddress = BaseAddress };
        foreach (var path in new[] { "/api/tags", "/v1/models", "/health", "/broken/x", "/other/x" })
        {
            using var _ = await client.GetAsync(path);
        }
    }

    public async Task DisposeAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>
    /// A loopback port nothing listens on, so connecting is refused. It is taken below Linux's ephemeral range
    /// (32768+): connecting to a free ephemeral port can pick that same port as the source and connect to itself.
    /// </summary>
    public static int ClosedPort()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                listener.Stop();
                return port;
            }
            catch (SocketException)
            {
                // In use; try another.
            }
        }

        throw new InvalidOperationException("No free port below the ephemeral range.");
    }
}
