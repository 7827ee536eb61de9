using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ModelLibrary.TestServer;

/// <summary>
/// Kestrel on 127.0.0.1 serving files, generated content, catalogs and statistics, with faults chosen by
/// query string (see <see cref="Faults"/>).
/// </summary>
/// <remarks>
/// Routes: <c>/files/&lt;path&gt;</c>, <c>/gen/&lt;size&gt;/&lt;seed&gt;</c> and <c>…/&lt;seed&gt;.sha256</c>,
/// <c>/catalog.json</c>, <c>/custom-catalog.json</c> (set by <c>POST /_control/catalog</c>),
/// <c>/_control/malformed</c>, <c>GET /_stats</c>, <c>POST /_stats/reset</c>; hostile servers:
/// <c>/redirect?to=&lt;url&gt;[&amp;status=302]</c> (one redirect, absolute or relative <c>to</c>), <c>/loop/a</c> (a → b → a),
/// <c>/endless/&lt;seed&gt;</c> (no Content-Length, a body that never ends, HEAD without a length) and
/// <c>/endless-catalog.json</c> (a chunked catalog JSON that never ends); <c>getOnly=1</c> on <c>/redirect</c> answers
/// HEAD directly and redirects GET only; <c>/_echo/headers</c> answers the request's headers as JSON. <c>hangMs=M</c> on any route answers
/// nothing for M ms.
/// </remarks>
public sealed class LoopbackServer : IAsyncDisposable
{
    readonly WebApplication app;
    readonly ContentEndpoint content;
    readonly CatalogEndpoint catalog;
    volatile string? customCatalog;

    LoopbackServer(WebApplication app, string? contentRoot)
    {
        this.app = app;
        ContentRoot = contentRoot is null ? null : Path.GetFullPath(contentRoot);
        content = new ContentEndpoint(Stats);
        catalog = new CatalogEndpoint(ContentRoot, () => BaseUri);
    }

    /// <summary>Ends with a slash: <c>http://127.0.0.1:43123/</c>.</summary>
    public Uri BaseUri { get; private set; } = null!;
    public string? ContentRoot { get; }
    public ServerStats Stats { get; } = new();

    /// <summary>The body served at <c>/custom-catalog.json</c>.</summary>
    public string? CustomCatalog
    {
        get => customCatalog;
        set => customCatalog = value;
    }

    public static async Task<LoopbackServer> StartAsync(string? contentRoot = null, int port = 0, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Listen(IPAddress.Loopback, port);
        });

        var app = builder.Build();
        var server = new LoopbackServer(app, contentRoot);
        app.Run(server.HandleAsync);
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    public Uri Url(string relative) => new(BaseUri, relative);

    /// <summary><c>/files/&lt;relativePath&gt;</c> with an optional fault query (without <c>?</c>).</summary>
    public Uri FileUrl(string relativePath, string? query = null) =>
        Url("files/" + string.Join('/', relativePath.Replace('\\', '/').Split('/').Select(Uri.EscapeDataString)) + Query(query));

    /// <summary><c>/gen/&lt;size&gt;/&lt;seed&gt;</c> with an optional fault query (without <c>?</c>).</summary>
    public Uri GenUrl(long size, string seed, string? query = null) => Url($"gen/{size}/{Uri.EscapeDataString(seed)}{Query(query)}");

    /// <summary>The SHA-256 (lower-case hex) of what <see cref="GenUrl"/> serves, without a request.</summary>
    public static string GenSha256(long size, string seed) => new GeneratedContent(size, GeneratedContent.ParseSeed(seed)).Sha256Hex();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    static string Query(string? query) => string.IsNullOrEmpty(query) ? "" : "?" + query.TrimStart('?');

    async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var method = context.Request.Method;
        if (long.TryParse(context.Request.Query["hangMs"], out var hang) && hang > 0)
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(hang), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (path.StartsWith("/files/", StringComparison.Ordinal))
        {
            await content.SendAsync(context, () => OpenFile(path["/files/".Length..]));
        }
        else if (path.StartsWith("/gen/", StringComparison.Ordinal))
        {
            await SendGeneratedAsync(context, path["/gen/".Length..]);
        }
        else if (path == "/redirect")
        {
            Stats.CountRequest(path, path + context.Request.QueryString.Value, false);
            var to = context.Request.Query["to"].ToString();
            if (HttpMethods.IsHead(method) && context.Request.Query["getOnly"] == "1" && Uri.TryCreate(to, UriKind.Absolute, out var target))
            {
                // HEAD answers directly (from this server's copy of the target), only GET is redirected.
                context.Request.Path = target.AbsolutePath;
                context.Request.QueryString = new QueryString(target.Query);
                await HandleAsync(context);
                return;
            }

            context.Response.StatusCode = int.TryParse(context.Request.Query["status"], out var status) ? status : StatusCodes.Status302Found;
            context.Response.Headers.Location = to;
        }
        else if (path == "/_echo/headers")
        {
            // What reached the server, for tests of which headers a client forwards across redirects.
            context.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(context.Response.Body,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), cancellationToken: context.RequestAborted);
        }
        else if (path.StartsWith("/loop/", StringComparison.Ordinal))
        {
            Stats.CountRequest(path, path, false);
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = path == "/loop/a" ? "/loop/b" : "/loop/a";
        }
        else if (path.StartsWith("/endless/", StringComparison.Ordinal))
        {
            await HostileBodies.SendEndlessAsync(context, Stats, path);
        }
        else if (path == "/endless-catalog.json")
        {
            await HostileBodies.SendEndlessCatalogAsync(context, Stats);
        }
        else if (path == "/catalog.json")
        {
            await catalog.WriteAsync(context);
        }
        else if (path == "/custom-catalog.json")
        {
            await WriteTextAsync(context, customCatalog, "application/json");
        }
        else if (path == "/_control/catalog" && HttpMethods.IsPost(method))
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            customCatalog = await reader.ReadToEndAsync(context.RequestAborted);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        else if (path == "/_control/malformed")
        {
            await WriteTextAsync(context, "{\"models\": [ {\"id\": \"broken\", \"name\": \"Broken", "application/json");
        }
        else if (path == "/_stats" && HttpMethods.IsGet(method))
        {
            context.Response.ContentType = "application/json";
            await JsonSerializer.SerializeAsync(context.Response.Body, Stats.Snapshot(), cancellationToken: context.RequestAborted);
        }
        else if (path == "/_stats/reset" && HttpMethods.IsPost(method))
        {
            Stats.Reset();
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }

    Task SendGeneratedAsync(HttpContext context, string rest)
    {
        var parts = rest.Split('/');
        if (parts.Length != 2 || !GeneratedContent.TryParseSize(parts[0], out var size))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        var seed = Uri.UnescapeDataString(parts[1]);
        if (seed.EndsWith(".sha256", StringComparison.Ordinal))
        {
            var generated = new GeneratedContent(size, GeneratedContent.ParseSeed(seed[..^".sha256".Length]));
            return WriteTextAsync(context, generated.Sha256Hex(), "text/plain");
        }

        return content.SendAsync(context, () => new GeneratedContent(size, GeneratedContent.ParseSeed(seed)));
    }

    /// <summary>Opens a file under the content root; null when missing or outside it (compared by segments).</summary>
    Content? OpenFile(string relative)
    {
        if (ContentRoot is null)
        {
            return null;
        }

        var full = Path.GetFullPath(Path.Combine(ContentRoot, Uri.UnescapeDataString(relative)));
        var inside = Path.GetRelativePath(ContentRoot, full);
        if (inside == ".." || inside.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(inside) || !File.Exists(full))
        {
            return null;
        }

        return new FileContent(full);
    }

    static async Task WriteTextAsync(HttpContext context, string? text, string contentType)
    {
        if (text is null)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(text, context.RequestAborted);
    }
}
