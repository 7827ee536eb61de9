using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ModelLibrary.TestServer;

/// <summary>
/// A token server as the registry's <c>auth.token</c> expects one (distribution/distribution docs/spec/auth/token.md
/// and jwt.md; registry/auth/token/token.go verifies it): GET <c>/token?service=..&amp;scope=..</c> with HTTP basic
/// credentials answers <c>{"token", "access_token", "expires_in", "issued_at"}</c>, an RS256 JWT whose header carries
/// the signing certificate (<c>x5c</c>), which the registry checks against <c>rootcertbundle</c>. Listens on
/// 127.0.0.2, another host than the registry, as realms on another host are what Ollama refuses.
/// </summary>
/// <remarks>
/// Tokens that die early: <see cref="ValidFor"/> sets the JWT's <c>exp</c> so that the registry refuses the token that
/// many seconds after it was issued, while <c>expires_in</c> still says <see cref="ExpiresIn"/> (a token revoked, or a
/// token server whose clock runs ahead): the client holds a token it believes good. Distribution accepts a token up to
/// 60 s past its <c>exp</c> (registry/auth/token/token.go, <c>Leeway</c>), so <c>exp</c> is set that much earlier.
/// <see cref="GrantNothing"/> issues tokens without access, so the registry keeps refusing. Over HTTP (the test server
/// process, for Pester): <c>POST /_control/token</c> with <c>{"expiresIn":s,"validFor":s,"grantNothing":bool}</c>,
/// <c>GET /_stats/token</c> counts tokens issued.
/// </remarks>
public sealed class RegistryTokenServer : IAsyncDisposable
{
    public const string Issuer = "modellibrary-test-issuer";
    public const string Service = "modellibrary-test-registry";

    readonly WebApplication app;
    readonly RSA key;
    readonly X509Certificate2 certificate;

    RegistryTokenServer(WebApplication app, RSA key, X509Certificate2 certificate, string user, string password)
    {
        this.app = app;
        this.key = key;
        this.certificate = certificate;
        User = user;
        Password = password;
    }

    public string User { get; }
    public string Password { get; }
    public Uri Realm { get; private set; } = null!;
    /// <summary>Every token request: the scopes asked for and whether its basic credential was right.</summary>
    public ConcurrentQueue<(string[] Scopes, bool Authenticated)> Requests { get; } = new();
    public int ExpiresIn { get; set; } = 300;
    /// <summary>Seconds the registry accepts a token for after it is issued; null: <see cref="ExpiresIn"/>.</summary>
    public int? ValidFor { get; set; }
    public bool GrantNothing { get; set; }

    /// <summary>How far past <c>exp</c> Distribution still accepts a token (registry/auth/token/token.go).</summary>
    public const int RegistryLeewaySeconds = 60;

    public static async Task<RegistryTokenServer> StartAsync(string user, string password)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=modellibrary-test-token", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Parse("127.0.0.2"), 0));
        var app = builder.Build();
        var server = new RegistryTokenServer(app, key, certificate, user, password);
        app.MapGet("/token", server.Issue);
        app.MapPost("/_control/token", server.ControlAsync);
        app.MapGet("/_stats/token", () => Results.Json(new { issued = server.Requests.Count(r => r.Authenticated), requests = server.Requests.Count }));
        await app.StartAsync();
        var address = app.Services.GetService(typeof(IServer)) is IServer s ? s.Features.Get<IServerAddressesFeature>()!.Addresses.First() : throw new InvalidOperationException();
        server.Realm = new Uri(new Uri(address.Replace("[::]", "127.0.0.2")), "/token");
        return server;
    }

    /// <summary>The PEM the registry's <c>rootcertbundle</c> points at.</summary>
    public string CertificatePem => certificate.ExportCertificatePem();

    IResult Issue(HttpContext context)
    {
        var scopes = context.Request.Query["scope"].Where(s => s is not null).SelectMany(s => s!.Split(' ')).ToArray();
        var header = context.Request.Headers.Authorization.ToString();
        var authenticated = false;
        if (header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
            if (pair != $"{User}:{Password}")
            {
                Requests.Enqueue((scopes, false));
                return Results.Json(new { errors = new[] { new { code = "UNAUTHORIZED", message = "bad credentials" } } }, statusCode: 401);
            }

            authenticated = true;
        }

        Requests.Enqueue((scopes, authenticated));
        // Anonymous callers get a token without access: the registry then answers 401, as real token servers do.
        var access = authenticated && !GrantNothing ? scopes.Select(Access).Where(a => a is not null).ToArray() : Array.Empty<object>();
        var now = DateTimeOffset.UtcNow;
        var exp = ValidFor is { } validFor ? now.AddSeconds(validFor - RegistryLeewaySeconds) : now.AddSeconds(ExpiresIn);
        var claims = new Dictionary<string, object>
        {
            ["iss"] = Issuer,
            ["sub"] = authenticated ? User : "",
            ["aud"] = context.Request.Query["service"].ToString(),
            ["exp"] = exp.ToUnixTimeSeconds(),
            ["nbf"] = now.AddSeconds(-RegistryLeewaySeconds - 10).ToUnixTimeSeconds(),
            ["iat"] = now.ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var token = Sign(claims);
        return Results.Json(new { token, access_token = token, expires_in = ExpiresIn, issued_at = now.ToString("O") });
    }

    async Task<IResult> ControlAsync(HttpContext context)
    {
        using var json = await JsonDocument.ParseAsync(context.Request.Body);
        var root = json.RootElement;
        if (root.TryGetProperty("expiresIn", out var e))
        {
            ExpiresIn = e.GetInt32();
        }

        if (root.TryGetProperty("validFor", out var v))
        {
            ValidFor = v.ValueKind == JsonValueKind.Null ? null : v.GetInt32();
        }

        if (root.TryGetProperty("grantNothing", out var g))
        {
            GrantNothing = g.GetBoolean();
        }

        if (root.TryGetProperty("resetStats", out var r) && r.GetBoolean())
        {
            Requests.Clear();
        }

        return Results.Ok();
    }

    static object? Access(string scope)
    {
        var first = scope.IndexOf(':');
        var last = scope.LastIndexOf(':');
        if (first < 0 || last <= first)
        {
            return null;
        }

        return new { type = scope[..first], name = scope[(first + 1)..last], actions = scope[(last + 1)..].Split(',') };
    }

    string Sign(Dictionary<string, object> claims)
    {
        var header = new Dictionary<string, object> { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new[] { Convert.ToBase64String(certificate.RawData) } };
        var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(header)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        key.Dispose();
        certificate.Dispose();
    }
}
