using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelLibrary.Net;

namespace ModelLibrary.Sources.Hub;

/// <summary>
/// The Hub's JSON API as huggingface_hub's hf_api.py calls it: repository info
/// (<c>GET /api/models/{repo}/revision/{rev}</c>), the file tree (<c>GET /api/models/{repo}/tree/{rev}?recursive=true</c>,
/// paginated by <c>Link: &lt;...&gt;; rel="next"</c> as utils/_pagination.py follows it) and search
/// (<c>GET /api/models?search=&amp;filter=&amp;limit=</c>). 429 waits as the <c>RateLimit</c> header
/// (<c>"api";r=0;t=55</c>) or <c>Retry-After</c> say (<see cref="Net.RateLimitHeaders"/>), a few times. The token goes to the Hub's host only.
/// </summary>
public sealed partial class HubClient
{
    const int MaxRateLimitRetries = 4;
    static readonly TimeSpan MaxRateLimitWait = TimeSpan.FromSeconds(60);
    static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    /// <summary>Pages followed at most: a repository of 100 000 files at the Hub's 1000 per page.</summary>
    const int MaxPages = 100;

    readonly HttpClient http;

    public HubClient(HttpClient http, HubSettings settings)
    {
        this.http = http;
        Settings = settings;
    }

    public HubSettings Settings { get; }

    /// <summary>Repository info at a revision (branch, tag or commit; the default branch when null).</summary>
    public async Task<HubRepoInfo> GetRepoInfoAsync(string repoId, string? revision, string target, CancellationToken cancellationToken)
    {
        var url = Settings.Api($"api/models/{repoId}/revision/{HubSettings.RevisionSegment(revision ?? "main")}");
        using var document = await GetJsonAsync(url, target, repoId, cancellationToken).ConfigureAwait(false);
        return HubRepoInfo.Parse(document.RootElement, repoId);
    }

    /// <summary>Every file of the repository at a commit, following the tree's pages.</summary>
    public async Task<IReadOnlyList<HubTreeEntry>> GetTreeAsync(string repoId, string commit, string target, CancellationToken cancellationToken)
    {
        var entries = new List<HubTreeEntry>();
        Uri? next = Settings.Api($"api/models/{repoId}/tree/{HubSettings.RevisionSegment(commit)}?recursive=true");
        for (var page = 0; next is not null; page++)
        {
            if (page == MaxPages)
            {
                throw Unavailable(target, $"the file list of '{repoId}' has more than {MaxPages} pages");
            }

            var (document, link) = await GetJsonPageAsync(next, target, repoId, cancellationToken).ConfigureAwait(false);
            using (document)
            {
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    if (HubTreeEntry.Parse(item) is { } entry)
                    {
                        entries.Add(entry);
                    }
                }
            }

            next = NextPage(link, next);
        }

        return entries;
    }

    /// <summary>Repositories matching words and a library filter (<c>gguf</c>, <c>safetensors</c>), most downloaded first.</summary>
    public async Task<IReadOnlyList<HubRepoInfo>> SearchAsync(string? query, string? filter, int limit, CancellationToken cancellationToken)
    {
        var parameters = new List<string> { "limit=" + limit, "sort=downloads", "direction=-1", "full=true" };
        if (!string.IsNullOrWhiteSpace(query))
        {
            parameters.Add("search=" + Uri.EscapeDataString(query));
        }

        if (!string.IsNullOrWhiteSpace(filter))
        {
            parameters.Add("filter=" + Uri.EscapeDataString(filter));
        }

        using var document = await GetJsonAsync(Settings.Api("api/models?" + string.Join('&', parameters)), query ?? "", null, cancellationToken).ConfigureAwait(false);
        return document.RootElement.EnumerateArray().Select(e => HubRepoInfo.Parse(e, null)).Where(r => r.RepoId.Length > 0).ToList();
    }

    async Task<JsonDocument> GetJsonAsync(Uri url, string target, string? repoId, CancellationToken cancellationToken)
    {
        var (document, _) = await GetJsonPageAsync(url, target, repoId, cancellationToken).ConfigureAwait(false);
        return document;
    }

    async Task<(JsonDocument Document, string? Link)> GetJsonPageAsync(Uri url, string target, string? repoId, CancellationToken cancellationToken)
    {
        if (Settings.Offline)
        {
            throw OfflineError(target);
        }

        for (var attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(RequestTimeout);
            // Redirects are followed hop by hop under the plain-http rule; the token never leaves the Hub's host (Net.RedirectHandler).
            using var request = new HttpRequestMessage(HttpMethod.Get, url).With(Net.HttpPolicy.ForSource(Settings.SourceName, Settings.AllowInsecureHttp));
            request.Headers.Authorization = Settings.AuthorizationFor(url);
            request.Headers.Accept.ParseAdd("application/json");
            HttpResponseMessage response;
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Unavailable(target, $"{url.Host} did not answer within {RequestTimeout.TotalSeconds:0} seconds", e);
            }
            catch (HttpRequestException e)
            {
                throw Unavailable(target, $"{url.GetLeftPart(UriPartial.Authority)} cannot be reached ({e.Message})", e);
            }

            using (response)
            {
                if (response.StatusCode == HttpStatusCode.TooManyRequests && attempt < MaxRateLimitRetries)
                {
                    await Task.Delay(RateLimitWait(response), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    throw HubErrors.FromResponse(response, target, Settings.RepositoryPage, repoId)
                        ?? (response.StatusCode == HttpStatusCode.NotFound && repoId is not null
                            ? Errors.ModelNotFound(target, $"The repository '{repoId}' was not found on {Settings.Endpoint.Host}.",
                                new Dictionary<string, object?> { ["reference"] = target, ["repository"] = repoId }, new[] { "Check the owner and repository name; Find-LibraryModel searches the Hub." })
                            : Errors.NetworkFailure($"The Hub answered HTTP {(int)response.StatusCode} ({response.ReasonPhrase}) for {url}.", (int)response.StatusCode, target,
                                details: new Dictionary<string, object?> { ["url"] = url.ToString(), ["http_status"] = (int)response.StatusCode }));
                }

                var link = response.Headers.TryGetValues("Link", out var links) ? string.Join(",", links) : null;
                await using var body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                try
                {
                    return (await JsonDocument.ParseAsync(body, cancellationToken: timeout.Token).ConfigureAwait(false), link);
                }
                catch (JsonException e)
                {
                    throw Unavailable(target, $"{url} did not answer JSON ({e.Message})", e);
                }
            }
        }
    }

    /// <summary>What the answer asks for (<see cref="Net.RateLimitHeaders"/>), else a second; capped.</summary>
    static TimeSpan RateLimitWait(HttpResponseMessage response)
    {
        var chosen = Net.RateLimitHeaders.WaitOf(response) ?? TimeSpan.FromSeconds(1);
        return chosen > MaxRateLimitWait ? MaxRateLimitWait : chosen;
    }

    /// <summary>The <c>rel="next"</c> target of a Link header, made absolute against the page it came with.</summary>
    static Uri? NextPage(string? link, Uri current)
    {
        if (link is null)
        {
            return null;
        }

        foreach (Match m in LinkNext().Matches(link))
        {
            return new Uri(current, m.Groups["url"].Value);
        }

        return null;
    }

    public static ModelLibraryException OfflineError(string target) => Errors.NetworkFailure(
        $"HF_HUB_OFFLINE is set: '{target}' is not in the library, and the Hub is not asked.", target: target,
        details: new Dictionary<string, object?> { ["reference"] = target, ["HF_HUB_OFFLINE"] = Environment.GetEnvironmentVariable("HF_HUB_OFFLINE") });

    ModelLibraryException Unavailable(string target, string why, Exception? inner = null) => Errors.NetworkFailure(
        $"The Hugging Face Hub at {Settings.Endpoint.GetLeftPart(UriPartial.Authority)} is unavailable: {why}.", target: target, inner: inner,
        details: new Dictionary<string, object?> { ["reference"] = target, ["endpoint"] = Settings.Endpoint.ToString() });

    [GeneratedRegex("<(?<url>[^>]+)>\\s*;\\s*rel=\"?next\"?", RegexOptions.IgnoreCase)]
    private static partial Regex LinkNext();
}

/// <summary>What <c>/api/models/{repo}/revision/{rev}</c> (or a search hit) says of a repository.</summary>
public sealed record HubRepoInfo(string RepoId, string? Sha, bool Gated, bool Private, string[] Tags, string? PipelineTag, string? License,
    string? LibraryName, long? Downloads, IReadOnlyList<string> Siblings)
{
    public static HubRepoInfo Parse(JsonElement e, string? repoId)
    {
        string? Str(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var gated = e.TryGetProperty("gated", out var g) && (g.ValueKind == JsonValueKind.True || (g.ValueKind == JsonValueKind.String && g.GetString() is { Length: > 0 } s && s != "false"));
        var tags = e.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToArray() : Array.Empty<string>();
        string? license = null;
        if (e.TryGetProperty("cardData", out var card) && card.ValueKind == JsonValueKind.Object && card.TryGetProperty("license", out var l) && l.ValueKind == JsonValueKind.String)
        {
            license = l.GetString();
        }

        license ??= tags.FirstOrDefault(x => x.StartsWith("license:", StringComparison.Ordinal))?["license:".Length..];
        var siblings = e.TryGetProperty("siblings", out var sib) && sib.ValueKind == JsonValueKind.Array
            ? sib.EnumerateArray().Select(x => x.TryGetProperty("rfilename", out var f) ? f.GetString() : null).OfType<string>().ToList()
            : new List<string>();
        return new HubRepoInfo(Str("id") ?? Str("modelId") ?? repoId ?? "", Str("sha"), gated,
            e.TryGetProperty("private", out var p) && p.ValueKind == JsonValueKind.True, tags, Str("pipeline_tag"), license, Str("library_name"),
            e.TryGetProperty("downloads", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt64() : null, siblings);
    }
}

/// <summary>
/// One file of the tree: <c>{"type":"file","oid":&lt;git blob sha1&gt;,"size":n,"path":"...","lfs":{"oid":&lt;sha256&gt;,"size":n,"pointerSize":n}}</c>
/// (hf_api.py's <c>RepoFile</c>). Folders are skipped.
/// </summary>
public sealed record HubTreeEntry(string Path, long Size, string? GitOid, string? LfsSha256)
{
    public static HubTreeEntry? Parse(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty("type", out var type) || type.GetString() != "file"
            || !e.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        string? lfs = null;
        long size = e.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : 0;
        if (e.TryGetProperty("lfs", out var l) && l.ValueKind == JsonValueKind.Object)
        {
            lfs = l.TryGetProperty("oid", out var oid) ? oid.GetString() : null;
            if (l.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number)
            {
                size = ls.GetInt64();
            }
        }

        return new HubTreeEntry(path.GetString()!, size, e.TryGetProperty("oid", out var o) ? o.GetString() : null, lfs);
    }

    public string FileName => Path[(Path.LastIndexOf('/') + 1)..];
}
