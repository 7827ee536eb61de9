using System.Net;
using System.Net.Sockets;

namespace ModelLibrary.Oci.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 to a registry port that passes at most <see cref="BytesPerSecond"/> each way, so a
/// transfer of a few MiB lasts long enough to stop the registry in the middle of it. When the registry dies its
/// side closes and the relay closes the client's side: the client sees the connection drop, as it would.
/// </summary>
public sealed class SlowProxy : IAsyncDisposable
{
    readonly TcpListener listener;
    readonly CancellationTokenSource stop = new();
    readonly int upstreamPort;
    long relayed;

    public SlowProxy(int upstreamPort, long bytesPerSecond)
    {
        this.upstreamPort = upstreamPort;
        BytesPerSecond = bytesPerSecond;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _ = AcceptLoopAsync();
    }

    public long BytesPerSecond { get; set; }
    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;
    public string Registry => $"127.0.0.1:{Port}";
    /// <summary>Bytes relayed either way so far.</summary>
    public long Relayed => Interlocked.Read(ref relayed);

    async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            _ = RelayAsync(client);
        }
    }

    async Task RelayAsync(TcpClient client)
    {
        using (client)
        {
            using var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, upstreamPort, stop.Token);
            }
            catch (Exception)
            {
                return; // the registry is down: the client sees its connection closed
            }

            using var both = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            var a = PumpAsync(client.GetStream(), upstream.GetStream(), both.Token);
            var b = PumpAsync(upstream.GetStream(), client.GetStream(), both.Token);
            await Task.WhenAny(a, b);
            both.Cancel();
        }
    }

    async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationToken token)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, token);
                if (read == 0)
                {
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), token);
                Interlocked.Add(ref relayed, read);
                await Task.Delay(TimeSpan.FromSeconds((double)read / BytesPerSecond), token);
            }
        }
        catch (Exception)
        {
            // Either side went away: the other is closed by the caller.
        }
    }

    public ValueTask DisposeAsync()
    {
        stop.Cancel();
        listener.Stop();
        return ValueTask.CompletedTask;
    }
}
