using System.Globalization;
using System.Runtime.InteropServices;
using ModelLibrary.TestServer;

// dotnet ModelLibrary.TestServer.dll [--root <dir>] [--hub <dir>] [--token <user:password> <pem>] [--port N] [--no-stdin]
// --token starts a registry token server on 127.0.0.2 (RegistryTokenServer) for that login, writes its signing
// certificate to <pem> (the registry's auth.token.rootcertbundle) and adds "token <realm>" to the first line.
// Prints "Listening on <url>" as the first line of stdout, then serves until stdin closes (so a parent that
// dies takes the server with it), or until Ctrl+C / SIGTERM. --no-stdin ignores stdin (for `&` in a shell,
// where stdin is /dev/null and would end the server at once).
// dotnet ModelLibrary.TestServer.dll --print-proxy <url>: prints the proxy .NET would use for <url> (from
// HTTP_PROXY/HTTPS_PROXY/NO_PROXY), or "direct"; lets tests check proxy selection in a clean process.

string? root = null;
string? hubRoot = null;
string? tokenLogin = null;
string? tokenPem = null;
var port = 0;
var watchStdin = true;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--root" when i + 1 < args.Length:
            root = args[++i];
            break;
        case "--port" when i + 1 < args.Length:
            port = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--hub" when i + 1 < args.Length:
            hubRoot = args[++i];
            break;
        case "--token" when i + 2 < args.Length:
            tokenLogin = args[++i];
            tokenPem = args[++i];
            break;
        case "--no-stdin":
            watchStdin = false;
            break;
        case "--print-proxy" when i + 1 < args.Length:
            var target = new Uri(args[++i]);
            var proxy = System.Net.Http.HttpClient.DefaultProxy;
            Console.WriteLine(proxy.IsBypassed(target) ? "direct" : proxy.GetProxy(target)?.ToString() ?? "direct");
            return 0;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: --root <dir> [--port N] [--no-stdin]");
            return 2;
    }
}

if (root is not null && !Directory.Exists(root))
{
    Console.Error.WriteLine($"Content root '{root}' does not exist.");
    return 2;
}

// --hub <dir>: a loopback Hugging Face Hub (127.0.0.1) and its CDN (127.0.0.2) serving <dir> (see HubServer).
await using var hub = hubRoot is null ? null : await HubServer.StartAsync(hubRoot);
await using var server = await LoopbackServer.StartAsync(root, port);
await using var token = tokenLogin is null ? null
    : await RegistryTokenServer.StartAsync(tokenLogin[..tokenLogin.IndexOf(':', StringComparison.Ordinal)], tokenLogin[(tokenLogin.IndexOf(':', StringComparison.Ordinal) + 1)..]);
if (token is not null)
{
    await File.WriteAllTextAsync(tokenPem!, token.CertificatePem);
}

Console.WriteLine((hub is null ? $"Listening on {server.BaseUri}" : $"Listening on {server.BaseUri} hub {hub.HubUri} cdn {hub.CdnUri}")
    + (token is null ? "" : $" token {token.Realm}"));
Console.Out.Flush();

var stop = new TaskCompletionSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.TrySetResult(); });
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.TrySetResult(); });
if (watchStdin)
{
    _ = Task.Run(async () =>
    {
        var buffer = new char[256];
        while (await Console.In.ReadAsync(buffer, 0, buffer.Length) > 0)
        {
        }

        stop.TrySetResult();
    });
}

await stop.Task;
return 0;
