using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ModelLibrary.TestServer;

/// <summary>
/// A loopback Hugging Face Hub and its CDN, written from the protocol as the real client speaks it
/// (huggingface/huggingface_hub at ee0a4510, read for this server):
/// <list type="bullet">
/// <item>hf_api.py <c>model_info</c>: <c>GET {endpoint}/api/models/{repo_id}/revision/{quote(revision)}</c> answers the
/// repository's JSON with <c>sha</c> (the commit), <c>siblings</c> (<c>rfilename</c>), <c>gated</c> (false, "auto" or
/// "manual"), <c>private</c>, <c>tags</c>, <c>pipeline_tag</c>, <c>cardData</c>.</item>
/// <item>hf_api.py <c>list_repo_tree</c> + utils/_pagination.py <c>paginate</c>: <c>GET /api/models/{repo}/tree/{rev}?recursive=true</c>
/// answers a JSON array of <c>{"type":"file","oid","size","path","lfs":{"oid","size","pointerSize"}}</c> (RepoFile) and
/// <c>{"type":"directory","oid","path"}</c>, and the next page in <c>Link: &lt;url&gt;; rel="next"</c> (as GitHub does).</item>
/// <item>hf_api.py <c>list_models</c>: <c>GET /api/models?search=&amp;filter=&amp;limit=</c>, an array of repositories.</item>
/// <item>file_download.py / constants.py: <c>{endpoint}/{repo}/resolve/{revision}/{filename}</c>; the answer carries
/// <c>X-Repo-Commit</c>, and for LFS files <c>X-Linked-Etag</c> (the SHA-256, quoted) and <c>X-Linked-Size</c> on a 302 to
/// the CDN; small files are served by the Hub itself with their git blob id as ETag.</item>
/// <item>utils/_http.py <c>hf_raise_for_status</c>: errors named in <c>X-Error-Code</c>: <c>RepoNotFound</c> (401 without
/// a token for missing and private repositories alike; 404 with a token), <c>GatedRepo</c> (401/403),
/// <c>RevisionNotFound</c>, <c>EntryNotFound</c> (404); 429 with <c>Retry-After</c> and <c>RateLimit: "api";r=0;t=N</c>
/// (<c>parse_ratelimit_headers</c>).</item>
/// </list>
/// The CDN listens on 127.0.0.2 (another host): it serves LFS blobs at signed, expiring URLs, answers 400 to any
/// request carrying Authorization (as signed-URL CDNs refuse a second auth mechanism) and 403 to an expired URL.
/// </summary>
/// <remarks>
/// Content: <c>&lt;root&gt;/&lt;owner&gt;/&lt;repo&gt;/repo.json</c> (<c>refs</c> name → commit, <c>gated</c>,
/// <c>private</c>, <c>tokens</c> allowed, <c>pipeline_tag</c>, <c>tags</c>, <c>license</c>, <c>extraTree</c> entries added to
/// the listing as given) and <c>&lt;root&gt;/&lt;owner&gt;/&lt;repo&gt;/&lt;commit&gt;/</c> with that commit's files.
/// Control: <c>POST /_control/hub</c> with JSON <c>{"rateLimit":n,"rateLimitResolve":n,"rateLimitHeaders":"both|ratelimit|retry-after","retryAfter":s,"signedUrlTtlMs":ms,"cdnQuery":"dropAfter=..","treePageSize":n}</c>;
/// <c>GET /_stats/hub</c> counts what happened (and <c>retryGapMs:&lt;bucket&gt;</c>: how long a client waited after a 429).
/// </remarks>
public sealed class HubServer : IAsyncDisposable
{
    readonly WebApplication hub;
    readonly WebApplication cdn;
    readonly string root;
    readonly ContentEndpoint content;
    readonly byte[] signingKey = RandomNumberGenerator.GetBytes(32);
    readonly ConcurrentDictionary<string, (string Sha256, string Sha1)> digests = new();
    readonly ConcurrentDictionary<string, string> blobs = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, long> counters = new();
    readonly object controlLock = new();
    int rateLimitLeft;
    int rateLimitResolveLeft;
    string rateLimitHeaders = "both";
    readonly Dictionary<string, long> rateLimitedAt = new();
    int retryAfterSeconds = 1;
    int signedUrlTtlMs = 60_000;
    string cdnQuery = "";
    int treePageSize = 1000;

    HubServer(WebApplication hub, WebApplication cdn, string root)
    {
        this.hub = hub;
        this.cdn = cdn;
        this.root = root;
        content = new ContentEndpoint(Stats);
    }

    public Uri HubUri { get; private set; } = null!;
    public Uri CdnUri { get; private set; } = null!;
    public ServerStats Stats { get; } = new();

    public static async Task<HubServer> StartAsync(string root, CancellationToken cancellationToken = default)
    {
        var hubApp = Build(IPAddress.Loopback);
        var cdnApp = Build(IPAddress.Parse("127.0.0.2"));
        var server = new HubServer(hubApp, cdnApp, Path.GetFullPath(root));
        hubApp.Run(server.HandleHubAsync);
        cdnApp.Run(server.HandleCdnAsync);
        await hubApp.StartAsync(cancellationToken);
        await cdnApp.StartAsync(cancellationToken);
        server.HubUri = Address(hubApp);
        server.CdnUri = Address(cdnApp);
        return server;
    }

    static WebApplication Build(IPAddress address)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o =>
        {
            o.AddServerHeader = false;
            o.Listen(address, 0);
        });
        return builder.Build();
    }

    static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");

    public async ValueTask DisposeAsync()
    {
        await hub.StopAsync();
        await cdn.StopAsync();
        await hub.DisposeAsync();
        await cdn.DisposeAsync();
    }

    void Count(string name) => counters.AddOrUpdate(name, 1, (_, v) => v + 1);

    // ---------------------------------------------------------------- Hub

    async Task HandleHubAsync(HttpContext context)
    {
        // Segments as sent, each unescaped on its own: a revision is one segment (huggingface_hub sends
        // quote(revision, safe=""), so refs/pr/1 arrives as refs%2Fpr%2F1, which Kestrel leaves escaped in Path).
        var segments = (context.Request.Path.Value ?? "/").Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        var path = "/" + string.Join('/', segments);
        if (context.Request.Headers.Authorization.Count > 0)
        {
            Count("hubAuthorized");
        }

        if (path == "/_control/hub" && HttpMethods.IsPost(context.Request.Method))
        {
            await ControlAsync(context);
            return;
        }

        if (path == "/_stats/hub")
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(JsonSerializer.Serialize(counters.ToDictionary(p => p.Key, p => p.Value)));
            return;
        }

        // The Hub's buckets (hub-docs rate-limits.md): "resolvers" for every URL with a /resolve/ segment, "api" for the rest.
        var bucket = segments.Length >= 3 && segments[2] == "resolve" ? "resolvers" : "api";
        if (TakeRateLimit(bucket))
        {
            Count("rateLimited");
            Count("rateLimited:" + bucket);
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            string headers;
            lock (controlLock)
            {
                headers = rateLimitHeaders;
            }

            if (headers is "both" or "retry-after")
            {
                context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            }

            if (headers is "both" or "ratelimit")
            {
                // The IETF draft form huggingface_hub's utils/_http.py parse_ratelimit_headers reads: "<bucket>";r=<remaining>;t=<seconds to reset>.
                context.Response.Headers["RateLimit"] = $"\"{bucket}\";r=0;t={retryAfterSeconds}";
                context.Response.Headers["RateLimit-Policy"] = $"\"fixed window\";\"{bucket}\";q=500;w=300";
            }

            lock (controlLock)
            {
                rateLimitedAt[bucket] = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            return;
        }

        lock (controlLock)
        {
            // How long the client waited after a 429 before asking again in that bucket (what Retry-After/RateLimit asked).
            if (rateLimitedAt.Remove(bucket, out var at))
            {
                counters["retryGapMs:" + bucket] = (long)System.Diagnostics.Stopwatch.GetElapsedTime(at).TotalMilliseconds;
            }
        }

        if (path == "/api/models")
        {
            Count("search");
            await SearchAsync(context);
        }
        else if (segments.Length >= 5 && segments[0] == "api" && segments[1] == "models" && segments[4] is "revision" or "tree")
        {
            Count(segments[4] == "tree" ? "treePages" : "info");
            var repo = OpenRepo(context, segments[2], segments[3]);
            if (repo is null)
            {
                return;
            }

            // The revision is one segment, escaped whole as huggingface_hub sends it (quote(revision, safe="")); a
            // revision sent with bare slashes (refs/pr/1 unescaped) is not understood, which is what proves the escaping.
            var revision = segments.Length > 5 ? segments[5] : "";
            if (segments[4] == "revision" && segments.Length > 6)
            {
                Error(context, 404, "RevisionNotFound", $"Invalid rev id: {string.Join('/', segments.Skip(5))}");
                return;
            }

            var commit = Commit(context, repo, revision);
            if (commit is null)
            {
                return;
            }

            if (segments[4] == "revision")
            {
                await WriteJsonAsync(context, Info(repo, commit));
            }
            else
            {
                await TreeAsync(context, repo, commit);
            }
        }
        else if (segments.Length >= 5 && segments[2] == "resolve")
        {
            Count("resolve");
            await ResolveAsync(context, segments);
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }

    async Task ControlAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject ?? new JsonObject();
        lock (controlLock)
        {
            if (body["rateLimit"] is { } r)
            {
                rateLimitLeft = r.GetValue<int>();
            }

            if (body["rateLimitResolve"] is { } rr)
            {
                rateLimitResolveLeft = rr.GetValue<int>();
            }

            if (body["rateLimitHeaders"] is { } rh)
            {
                rateLimitHeaders = rh.GetValue<string>();
            }

            if (body["retryAfter"] is { } ra)
            {
                retryAfterSeconds = ra.GetValue<int>();
            }

            if (body["signedUrlTtlMs"] is { } ttl)
            {
                signedUrlTtlMs = ttl.GetValue<int>();
            }

            if (body["cdnQuery"] is { } q)
            {
                cdnQuery = q.GetValue<string>();
            }

            if (body["treePageSize"] is { } p)
            {
                treePageSize = p.GetValue<int>();
            }

            if (body["resetStats"] is not null)
            {
                counters.Clear();
                rateLimitedAt.Clear();
            }
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>Whether this request is answered 429: <c>rateLimit</c> counts every Hub request, <c>rateLimitResolve</c> resolve requests only.</summary>
    bool TakeRateLimit(string bucket)
    {
        lock (controlLock)
        {
            if (bucket == "resolvers" && rateLimitResolveLeft > 0)
            {
                rateLimitResolveLeft--;
                return true;
            }

            if (rateLimitLeft <= 0)
            {
                return false;
            }

            rateLimitLeft--;
            return true;
        }
    }

    sealed record Repo(string Id, string Folder, JsonObject Config)
    {
        public bool Gated => Config["gated"] is JsonValue g && g.ToString() is not ("false" or "False" or "");
        public bool Private => Config["private"]?.GetValue<bool>() ?? false;
        public IEnumerable<string> Tokens => Config["tokens"] is JsonArray a ? a.Select(t => t!.GetValue<string>()) : Array.Empty<string>();
    }

    static string? Token(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..] : null;
    }

    /// <summary>The repository, or an error answered as the Hub does (401 without a token, 404 with one).</summary>
    Repo? OpenRepo(HttpContext context, string owner, string name)
    {
        var folder = Path.Combine(root, owner, name);
        var token = Token(context);
        var config = File.Exists(Path.Combine(folder, "repo.json")) && owner is not (".." or ".") && name is not (".." or ".")
            ? JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "repo.json"))) as JsonObject
            : null;
        var repo = config is null ? null : new Repo($"{owner}/{name}", folder, config);
        if (repo is null || (repo.Private && (token is null || !repo.Tokens.Contains(token))))
        {
            Error(context, token is null ? 401 : 404, "RepoNotFound", "Repository not found");
            return null;
        }

        return repo;
    }

    /// <summary>A branch or tag of <c>refs</c>, or a full commit id; else 404 RevisionNotFound.</summary>
    string? Commit(HttpContext context, Repo repo, string revision)
    {
        revision = revision.Length == 0 ? "main" : revision;
        var refs = repo.Config["refs"] as JsonObject;
        var commit = refs?[revision]?.GetValue<string>()
            ?? (revision.Length == 40 && Directory.Exists(Path.Combine(repo.Folder, revision)) ? revision : null);
        if (commit is null)
        {
            Error(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
        }

        return commit;
    }

    static void Error(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["X-Error-Code"] = code;
        context.Response.Headers["X-Error-Message"] = message;
    }

    JsonObject Info(Repo repo, string commit)
    {
        var files = Files(repo, commit);
        var tags = new JsonArray();
        foreach (var tag in (repo.Config["tags"] as JsonArray)?.Select(t => t!.GetValue<string>()) ?? Array.Empty<string>())
        {
            tags.Add(tag);
        }

        if (files.Any(f => f.Path.EndsWith(".gguf", StringComparison.Ordinal)) && !tags.Any(t => t!.GetValue<string>() == "gguf"))
        {
            tags.Add("gguf");
        }

        return new JsonObject
        {
            ["_id"] = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(repo.Id)))[..24].ToLowerInvariant(),
            ["id"] = repo.Id,
            ["modelId"] = repo.Id,
            ["sha"] = commit,
            ["private"] = repo.Private,
            ["gated"] = repo.Gated ? JsonValue.Create(repo.Config["gated"]!.ToString()) : JsonValue.Create(false),
            ["disabled"] = false,
            ["downloads"] = repo.Config["downloads"]?.GetValue<long>() ?? 0,
            ["likes"] = 0,
            ["tags"] = tags,
            ["pipeline_tag"] = repo.Config["pipeline_tag"]?.GetValue<string>(),
            ["library_name"] = repo.Config["library_name"]?.GetValue<string>(),
            ["cardData"] = new JsonObject { ["license"] = repo.Config["license"]?.GetValue<string>() },
            ["siblings"] = new JsonArray(files.Select(f => (JsonNode)new JsonObject { ["rfilename"] = f.Path }).ToArray()),
        };
    }

    sealed record RepoFile(string Path, string FullPath, long Size, bool Lfs);

    /// <summary>A commit's files; LFS as a .gitattributes of model repositories makes them (weights, and anything over 10 KiB).</summary>
    static List<RepoFile> Files(Repo repo, string commit)
    {
        var folder = Path.Combine(repo.Folder, commit);
        return Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(f =>
            {
                var relative = Path.GetRelativePath(folder, f).Replace('\\', '/');
                var size = new FileInfo(f).Length;
                var lfs = relative.EndsWith(".gguf", StringComparison.Ordinal) || relative.EndsWith(".safetensors", StringComparison.Ordinal)
                    || relative.EndsWith(".bin", StringComparison.Ordinal) || size > 10 * 1024;
                return new RepoFile(relative, f, size, lfs);
            })
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .ToList();
    }

    (string Sha256, string Sha1) Digest(string fullPath)
    {
        var result = digests.GetOrAdd(fullPath, p =>
        {
            var bytes = File.ReadAllBytes(p);
            var header = Encoding.ASCII.GetBytes($"blob {bytes.Length}\0");
            return (Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant(),
                Convert.ToHexString(SHA1.HashData(header.Concat(bytes).ToArray())).ToLowerInvariant());
        });
        blobs[result.Sha256] = fullPath;
        return result;
    }

    async Task TreeAsync(HttpContext context, Repo repo, string commit)
    {
        var entries = new List<JsonNode>();
        var folders = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Files(repo, commit))
        {
            var (sha256, sha1) = Digest(file.FullPath);
            var entry = new JsonObject { ["type"] = "file", ["oid"] = sha1, ["size"] = file.Size, ["path"] = file.Path };
            if (file.Lfs)
            {
                entry["lfs"] = new JsonObject { ["oid"] = sha256, ["size"] = file.Size, ["pointerSize"] = 134 };
            }

            entries.Add(entry);
            for (var slash = file.Path.IndexOf('/'); slash > 0; slash = file.Path.IndexOf('/', slash + 1))
            {
                folders.Add(file.Path[..slash]);
            }
        }

        entries.AddRange(folders.Select(f => (JsonNode)new JsonObject { ["type"] = "directory", ["oid"] = new string('0', 40), ["path"] = f }));
        if (repo.Config["extraTree"] is JsonArray extra)
        {
            entries.AddRange(extra.Select(e => e!.DeepClone()));
        }

        int pageSize;
        lock (controlLock)
        {
            pageSize = treePageSize;
        }

        var cursor = int.TryParse(context.Request.Query["cursor"], out var c) ? c : 0;
        var page = entries.Skip(cursor).Take(pageSize).ToArray();
        if (cursor + pageSize < entries.Count)
        {
            var next = $"{HubUri.AbsoluteUri.TrimEnd('/')}{context.Request.Path}?recursive=true&cursor={cursor + pageSize}";
            context.Response.Headers["Link"] = $"<{next}>; rel=\"next\"";
        }

        await WriteJsonAsync(context, new JsonArray(page.Select(p => p.DeepClone()).ToArray()));
    }

    async Task SearchAsync(HttpContext context)
    {
        var search = context.Request.Query["search"].ToString();
        var filter = context.Request.Query["filter"].ToString();
        var limit = int.TryParse(context.Request.Query["limit"], out var l) ? l : 1000;
        var results = new List<JsonNode>();
        foreach (var owner in Directory.EnumerateDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
        {
            foreach (var folder in Directory.EnumerateDirectories(owner).OrderBy(d => d, StringComparer.Ordinal))
            {
                var id = $"{Path.GetFileName(owner)}/{Path.GetFileName(folder)}";
                if (!File.Exists(Path.Combine(folder, "repo.json")) || (search.Length > 0 && !id.Contains(search, StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                var repo = new Repo(id, folder, (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "repo.json")))!);
                if (repo.Private && !repo.Tokens.Contains(Token(context) ?? ""))
                {
                    continue;
                }

                var main = (repo.Config["refs"] as JsonObject)?["main"]?.GetValue<string>();
                if (main is null)
                {
                    continue;
                }

                var info = Info(repo, main);
                info.Remove("siblings");
                var tags = ((JsonArray)info["tags"]!).Select(t => t!.GetValue<string>()).ToList();
                if (filter.Length > 0 && !tags.Contains(filter, StringComparer.OrdinalIgnoreCase)
                    && !(filter == "safetensors" && Files(repo, main).Any(f => f.Path.EndsWith(".safetensors", StringComparison.Ordinal))))
                {
                    continue;
                }

                results.Add(info);
            }
        }

        await WriteJsonAsync(context, new JsonArray(results.OrderByDescending(r => r["downloads"]!.GetValue<long>()).Take(limit).ToArray()));
    }

    /// <summary><c>/{owner}/{repo}/resolve/{revision}/{path}</c>.</summary>
    async Task ResolveAsync(HttpContext context, string[] segments)
    {
        var repo = OpenRepo(context, segments[0], segments[1]);
        if (repo is null)
        {
            return;
        }

        var token = Token(context);
        if (repo.Gated && (token is null || !repo.Tokens.Contains(token)))
        {
            Error(context, token is null ? 401 : 403, "GatedRepo", "Access to model " + repo.Id + " is restricted. You must have access to it and be authenticated to access it. Please log in.");
            return;
        }

        var commit = Commit(context, repo, segments[3]);
        if (commit is null)
        {
            return;
        }

        var relative = string.Join('/', segments.Skip(4));
        Count("resolve:" + relative);
        var file = Files(repo, commit).FirstOrDefault(f => f.Path == relative);
        if (file is null)
        {
            Error(context, 404, "EntryNotFound", $"{relative} does not exist on \"{commit}\"");
            return;
        }

        var (sha256, sha1) = Digest(file.FullPath);
        context.Response.Headers["X-Repo-Commit"] = commit;
        if (!file.Lfs)
        {
            // Small files come from the Hub itself, with their git blob id as ETag.
            await content.SendAsync(context, () => new FileContentWithETag(file.FullPath, $"\"{sha1}\""));
            return;
        }

        context.Response.Headers["X-Linked-Etag"] = $"\"{sha256}\"";
        context.Response.Headers["X-Linked-Size"] = file.Size.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers.ETag = $"\"{sha256}\"";
        context.Response.Headers.Location = SignedUrl(sha256);
        context.Response.StatusCode = StatusCodes.Status302Found;
    }

    string SignedUrl(string sha256)
    {
        int ttl;
        string faults;
        lock (controlLock)
        {
            ttl = signedUrlTtlMs;
            faults = cdnQuery;
        }

        var expires = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + ttl;
        return $"{CdnUri.AbsoluteUri}blobs/{sha256}?Expires={expires}&Signature={Sign(sha256, expires)}" + (faults.Length > 0 ? "&" + faults : "");
    }

    string Sign(string sha256, long expires) =>
        Convert.ToHexString(HMACSHA256.HashData(signingKey, Encoding.ASCII.GetBytes($"{sha256}:{expires}"))).ToLowerInvariant();

    static async Task WriteJsonAsync(HttpContext context, JsonNode node)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(node.ToJsonString());
    }

    // ---------------------------------------------------------------- CDN

    async Task HandleCdnAsync(HttpContext context)
    {
        Count("cdnRequests");
        if (context.Request.Headers.Range.Count > 0)
        {
            Count("cdnRanged");
        }

        if (context.Request.Headers.Authorization.Count > 0)
        {
            // A signed URL is its own authorization; a second mechanism is refused, as S3 and CloudFront do.
            Count("cdnAuthorizationRefused");
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified");
            return;
        }

        var path = context.Request.Path.Value ?? "";
        var sha = path.StartsWith("/blobs/", StringComparison.Ordinal) ? path["/blobs/".Length..] : "";
        var query = context.Request.Query;
        if (!long.TryParse(query["Expires"], out var expires) || query["Signature"] != Sign(sha, expires))
        {
            Count("cdnBadSignature");
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        if (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > expires)
        {
            Count("cdnExpired");
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("Request has expired");
            return;
        }

        if (!blobs.TryGetValue(sha, out var file))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        // The signature changes with every redirect; the faults are counted per blob, so 'times=1' means the first response.
        var kept = query.Where(q => q.Key is not ("Expires" or "Signature")).Select(q => $"{q.Key}={q.Value}");
        context.Request.QueryString = new QueryString("?" + string.Join('&', kept));
        await content.SendAsync(context, () => new FileContentWithETag(file, $"\"{sha}\""));
    }

    /// <summary>A file served with a fixed ETag (the blob's digest, as the Hub and its CDN give).</summary>
    sealed class FileContentWithETag : Content, IDisposable
    {
        readonly FileContent inner;

        public FileContentWithETag(string path, string etag)
        {
            inner = new FileContent(path);
            ETag = etag;
        }

        public override long Length => inner.Length;
        public override string ETag { get; }
        public override DateTimeOffset LastModified => inner.LastModified;

        public override int Read(long offset, Span<byte> buffer) => inner.Read(offset, buffer);

        public void Dispose() => inner.Dispose();
    }
}
