using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace ModelLibrary.TestServer;

/// <summary>
/// <c>/catalog.json</c>: every file under the content root as an entry of the contract's catalog JSON, with
/// provider and format inferred from the extension and the real SHA-256, so a test can download what it lists.
/// </summary>
sealed class CatalogEndpoint
{
    static readonly ConcurrentDictionary<(string, long, DateTime), string> Digests = new();

    readonly string? root;
    readonly Func<Uri> baseUri;

    public CatalogEndpoint(string? root, Func<Uri> baseUri)
    {
        this.root = root;
        this.baseUri = baseUri;
    }

    public async Task WriteAsync(HttpContext context)
    {
        var models = new List<Dictionary<string, object?>>();
        if (root is not null && Directory.Exists(root))
        {
            foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                models.Add(Entry(path));
            }
        }

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new { models }, cancellationToken: context.RequestAborted);
    }

    Dictionary<string, object?> Entry(string path)
    {
        var relative = Path.GetRelativePath(root!, path).Replace('\\', '/');
        var extension = Path.GetExtension(path).ToLowerInvariant();
        var (provider, format) = extension switch
        {
            ".gguf" => ("llama-cpp", "gguf"),
            ".safetensors" => ("transformers", "safetensors"),
            ".bin" or ".pt" or ".pth" => ("transformers", "pytorch"),
            _ => ("llama-cpp", extension.TrimStart('.')),
        };
        var id = Path.ChangeExtension(relative, null)!.Replace('/', '-').ToLowerInvariant();
        var info = new FileInfo(path);
        var escaped = string.Join('/', relative.Split('/').Select(Uri.EscapeDataString));

        return new Dictionary<string, object?>
        {
            ["id"] = id,
            ["name"] = Path.GetFileNameWithoutExtension(path),
            ["provider"] = provider,
            ["size"] = info.Length,
            ["description"] = $"Test file {relative} served by the loopback server.",
            ["capabilities"] = new[] { "text-generation" },
            ["metadata"] = new Dictionary<string, object?> { ["tags"] = new[] { "test" } },
            ["download_url"] = new Uri(baseUri(), "files/" + escaped).ToString(),
            ["checksum"] = "sha256:" + Digest(info),
            ["filename"] = Path.GetFileName(path),
            ["format"] = format,
        };
    }

    static string Digest(FileInfo info) => Digests.GetOrAdd((info.FullName, info.Length, info.LastWriteTimeUtc), _ =>
    {
        using var stream = new FileStream(info.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    });
}
