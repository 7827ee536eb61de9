using System.Text;
using Microsoft.AspNetCore.Http;

namespace ModelLibrary.TestServer;

/// <summary>
/// Bodies that never end, as a broken or hostile server sends them: no Content-Length (Kestrel then sends
/// chunked), and the bytes keep coming until the client goes away. The bytes sent are counted in the stats, so a
/// test can tell how far the client read before it stopped.
/// </summary>
static class HostileBodies
{
    const int ChunkSize = 64 * 1024;

    /// <summary>Model-file bytes forever; HEAD answers 200 with no length and no ranges.</summary>
    public static async Task SendEndlessAsync(HttpContext context, ServerStats stats, string path)
    {
        stats.CountRequest(path, path, context.Request.Headers.Range.Count > 0);
        var response = context.Response;
        response.ContentType = "application/octet-stream";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        var chunk = new byte[ChunkSize];
        new Random(path.GetHashCode(StringComparison.Ordinal)).NextBytes(chunk);
        await SendForeverAsync(context, stats, path, _ => chunk);
    }

    /// <summary>A catalog JSON that opens its list of models and never closes it.</summary>
    public static async Task SendEndlessCatalogAsync(HttpContext context, ServerStats stats)
    {
        const string path = "/endless-catalog.json";
        stats.CountRequest(path, path, false);
        context.Response.ContentType = "application/json";
        await context.Response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes("{\"models\": ["), context.RequestAborted);
        await SendForeverAsync(context, stats, path, i =>
        {
            var entries = new StringBuilder();
            while (entries.Length < ChunkSize)
            {
                entries.Append($"{{\"id\": \"endless-{i}-{entries.Length}\", \"provider\": \"llama-cpp\", \"download_url\": \"http://127.0.0.1/x.gguf\"}},");
            }

            return Encoding.UTF8.GetBytes(entries.ToString());
        });
    }

    static async Task SendForeverAsync(HttpContext context, ServerStats stats, string path, Func<long, byte[]> next)
    {
        var writer = context.Response.BodyWriter;
        try
        {
            for (long i = 0; !context.RequestAborted.IsCancellationRequested; i++)
            {
                var bytes = next(i);
                var flushed = await writer.WriteAsync(bytes, context.RequestAborted);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    // The client went away; writes after this point would be discarded, not sent.
                    return;
                }

                stats.CountBytes(path, bytes.Length);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            // The client stopped reading: what a client that enforces its limit does.
        }
    }
}
