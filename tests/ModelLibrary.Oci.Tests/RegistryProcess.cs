using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ModelLibrary.Oci.Tests;

/// <summary>
/// A real Distribution 2.8 registry (Debian's <c>docker-registry serve config.yml</c>) on 127.0.0.1 with filesystem
/// storage in a temp folder; can be stopped and started again on the same port and storage (a registry restart).
/// The config follows distribution/distribution docs/configuration.md: <c>http.secret</c> is fixed so upload
/// sessions survive a restart, as they do behind a load balancer.
/// </summary>
public sealed class RegistryProcess : IAsyncDisposable
{
    Process? process;

    RegistryProcess(string root, int port)
    {
        Root = root;
        Port = port;
    }

    public string Root { get; }
    public int Port { get; }
    /// <summary><c>127.0.0.1:port</c>, the registry part of a reference.</summary>
    public string Registry => $"127.0.0.1:{Port}";
    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    public static string Executable => File.Exists("/usr/bin/docker-registry") ? "/usr/bin/docker-registry"
        : throw new InvalidOperationException("docker-registry is not installed: apt-get install -y docker-registry skopeo apache2-utils (.ci/run does this).");

    /// <param name="auth">The <c>auth:</c> section of config.yml (indented two spaces), or null for an anonymous registry.</param>
    public static async Task<RegistryProcess> StartAsync(string? auth = null, Action<string>? prepare = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "ml-registry-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        prepare?.Invoke(root);
        var port = FreePort();
        var config = $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {root}/data
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{port}
              secret: modellibrary-test-secret
            {(auth is null ? "" : "auth:\n" + auth.Replace("ROOT", root))}
            """;
        await File.WriteAllTextAsync(Path.Combine(root, "config.yml"), config);
        var registry = new RegistryProcess(root, port);
        await registry.StartAgainAsync();
        return registry;
    }

    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(Path.Combine(Root, "config.yml"));
        process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"docker-registry exited with {process.ExitCode}; config in {Root}.");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(BaseUri, "v2/"));
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"docker-registry did not answer on {BaseUri} within 20 s.");
    }

    public void Stop()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }

        process?.Dispose();
        process = null;
    }

    /// <summary>Where the filesystem driver keeps a blob's bytes (registry/storage/paths.go: blobs/sha256/&lt;2&gt;/&lt;hex&gt;/data).</summary>
    public string BlobPath(string digest)
    {
        var hex = digest["sha256:".Length..];
        return Path.Combine(Root, "data", "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    public static int FreePort(IPAddress? address = null)
    {
        using var listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public ValueTask DisposeAsync()
    {
        Stop();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
