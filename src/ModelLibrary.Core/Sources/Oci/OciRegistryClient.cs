using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelLibrary.Net;

namespace ModelLibrary.Sources.Oci;

/// <summary>
/// The Distribution API v2 (distribution/distribution docs/spec/api.md, the OCI distribution spec) for one
/// registry: manifests, blobs, listings and uploads, logged in by <see cref="RegistryAuthenticator"/>. Requests go
/// through the one HTTP client (<see cref="Net.HttpClients"/>), whose redirect handler checks every hop and drops
/// the login when a redirect leaves the registry's host (a blob served from S3 or Azure Blob storage).
/// </summary>
public sealed partial class OciRegistryClient
{
    /// <summary>Manifests larger than this are refused (the limit Distribution and containerd use).</summary>
    public const long MaxManifestBytes = 4L * 1024 * 1024;

    /// <summary>Config blobs and the small side files of a model (template, params, licence) read into memory.</summary>
    public const long MaxSmallBlobBytes = 16L * 1024 * 1024;

    readonly HttpClient http;
    readonly RegistryAuthenticator auth;
    volatile bool pinged;

    public OciRegistryClient(Uri baseUri, string registry, RegistryLogin login, HttpClient? http = null)
    {
        BaseUri = new Uri(baseUri.GetLeftPart(UriPartial.Authority) + "/");
        Registry = registry;
        this.http = http ?? Net.HttpClients.Shared;
        auth = new RegistryAuthenticator(registry, login, this.http);
    }

    /// <summary><c>https://registry/</c> or, to loopback, <c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseUri { get; }
    public string Registry { get; }
    public RegistryLogin Login => auth.Login;

    /// <summary>Plain http to a registry that is not loopback (a source registered with -AllowInsecureHttp).</summary>
    public bool AllowInsecureHttp { get; init; }

    /// <summary>Retries of a request that failed on the network or with 408/429/5xx (the registry restarting).</summary>
    public int RetryAttempts { get; init; } = 8;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a request (its login included) may wait for the registry's answer: a registry that accepts the
    /// connection and never answers would otherwise hang Register-ModelSource or a listing for good. Not retried: a
    /// registry that is silent this long is not restarting. Chunk uploads are not bound by it (their body takes time).
    /// </summary>
    public TimeSpan AnswerTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Entries asked for per page of a listing (<c>?n=</c>); the registry's <c>Link</c> header leads on.</summary>
    public int PageSize { get; init; } = 100;

    public static string PullScope(string repository) => $"repository:{repository}:pull";
    public static string PushScope(string repository) => $"repository:{repository}:pull,push";
    public const string CatalogScope = "registry:catalog:*";

    public Uri BlobUri(string repository, string digest) => new(BaseUri, $"v2/{repository}/blobs/{digest}");

    /// <summary>
    /// The manifest <paramref name="reference"/> names; an index (or Docker manifest list) leads to the model
    /// manifest in it. Its digest is checked when the reference is a digest.
    /// </summary>
    public async Task<FetchedManifest> GetModelManifestAsync(OciReference reference, CancellationToken cancellationToken)
    {
        var fetched = await GetManifestAsync(reference, reference.Reference, cancellationToken).ConfigureAwait(false);
        if (!OciMediaTypes.IsIndex(fetched.MediaType))
        {
            return fetched;
        }

        var candidates = (fetched.Manifest.Manifests ?? new List<OciDescriptor>())
            .OrderByDescending(m => OciModelLayout.IsModelArtifactType(m.ArtifactType))
            .Take(16).ToList();
        foreach (var candidate in candidates)
        {
            var child = await GetManifestAsync(reference, candidate.Digest, cancellationToken).ConfigureAwait(false);
            if (!OciMediaTypes.IsIndex(child.MediaType) && OciModelLayout.Recognize(child.Manifest) is not null)
            {
                return child;
            }
        }

        throw RegistryErrors.InvalidArtifact(reference, $"its index lists {candidates.Count} manifests and none is a model");
    }

    public async Task<FetchedManifest> GetManifestAsync(OciReference reference, string tagOrDigest, CancellationToken cancellationToken)
    {
        var uri = new Uri(BaseUri, $"v2/{reference.Repository}/manifests/{tagOrDigest}");
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, uri);
            foreach (var type in OciMediaTypes.ManifestAccept)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }

            return request;
        }, new[] { PullScope(reference.Repository) }, cancellationToken).ConfigureAwait(false);

        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw RegistryErrors.NotFound(reference, $"manifest '{tagOrDigest}'");
        }

        EnsureSuccess(response, $"the manifest '{tagOrDigest}' of '{reference.Repository}'");
        byte[] bytes;
        try
        {
            bytes = await OciHttp.ReadCappedAsync(response, MaxManifestBytes, Registry, "manifest", cancellationToken).ConfigureAwait(false);
        }
        catch (BodyTooLargeException e)
        {
            throw RegistryErrors.InvalidArtifact(reference, $"its manifest is larger than {e.Max / (1024 * 1024)} MiB");
        }

        var digest = DigestOf(bytes);
        if (tagOrDigest.StartsWith("sha256:", StringComparison.Ordinal) && !string.Equals(digest, tagOrDigest, StringComparison.Ordinal))
        {
            throw RegistryErrors.DigestMismatch(reference, tagOrDigest, digest);
        }

        OciManifest manifest;
        try
        {
            manifest = OciManifest.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw RegistryErrors.InvalidArtifact(reference, $"its manifest is not valid JSON ({e.Message})");
        }

        var mediaType = manifest.MediaType ?? response.Content.Headers.ContentType?.MediaType ?? OciMediaTypes.OciManifest;
        return new FetchedManifest(manifest, bytes, mediaType, digest);
    }

    /// <summary>A small blob (a config, a template) read into memory and checked against its digest.</summary>
    public async Task<byte[]> GetSmallBlobAsync(OciReference reference, OciDescriptor descriptor, CancellationToken cancellationToken)
    {
        if (descriptor.Size > MaxSmallBlobBytes)
        {
            throw RegistryErrors.InvalidArtifact(reference, $"the {descriptor.MediaType} blob is {descriptor.Size} bytes, more than the {MaxSmallBlobBytes / (1024 * 1024)} MiB read into memory");
        }

        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, BlobUri(reference.Repository, descriptor.Digest)),
            new[] { PullScope(reference.Repository) }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            throw RegistryErrors.NotFound(reference, $"blob {descriptor.Digest}");
        }

        EnsureSuccess(response, $"the blob {descriptor.Digest}");
        byte[] bytes;
        try
        {
            bytes = await OciHttp.ReadCappedAsync(response, Math.Max(descriptor.Size, 0), Registry, "blob", cancellationToken).ConfigureAwait(false);
        }
        catch (BodyTooLargeException)
        {
            throw RegistryErrors.DigestMismatch(reference, descriptor.Digest, $"more than the {descriptor.Size} bytes its descriptor states");
        }

        var actual = DigestOf(bytes);
        if (!string.Equals(actual, descriptor.Digest, StringComparison.Ordinal))
        {
            throw RegistryErrors.DigestMismatch(reference, descriptor.Digest, actual);
        }

        return bytes;
    }

    /// <summary>
    /// The Authorization the download engine's request for one of this repository's blobs carries (the pull token,
    /// fetched again when it expired), or null when the registry asks for none. A client that has not talked to the
    /// registry yet (a download resumed in a new process) first asks <c>/v2/</c> what login it wants, as docker does.
    /// </summary>
    public async Task<AuthenticationHeaderValue?> BlobAuthorizationAsync(string repository, CancellationToken cancellationToken)
    {
        var scopes = new[] { PullScope(repository) };
        try
        {
            if (!auth.HasChallenge && !pinged)
            {
                using var ping = await SendFollowingRedirectsAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(BaseUri, "v2/")), cancellationToken).ConfigureAwait(false);
                if (ping.StatusCode == HttpStatusCode.Unauthorized)
                {
                    await auth.AcceptChallengeAsync(ping, scopes, alreadyRetried: false, cancellationToken).ConfigureAwait(false);
                }

                pinged = true;
            }

            using var probe = new HttpRequestMessage(HttpMethod.Get, BaseUri);
            await auth.AuthorizeAsync(probe, scopes, cancellationToken).ConfigureAwait(false);
            return probe.Headers.Authorization;
        }
        catch (NetworkException e) when (e.InnerException is HttpRequestException network)
        {
            // The token service is out of reach: the engine retries this like any dropped connection.
            throw network;
        }
    }

    /// <summary>
    /// After the registry refused a blob request of the download engine: for a first 401, a fresh login (the cached
    /// token dropped, a new one from the realm the 401 names); when <paramref name="final"/> (the fresh login refused
    /// too, or a 403), AuthenticationRequired naming the registry.
    /// </summary>
    public async Task<AuthenticationHeaderValue?> BlobReauthorizationAsync(string repository, HttpResponseMessage refusal, bool final, CancellationToken cancellationToken)
    {
        var scopes = new[] { PullScope(repository) };
        if (final || refusal.StatusCode != HttpStatusCode.Unauthorized
            || !await auth.AcceptChallengeAsync(refusal, scopes, alreadyRetried: false, cancellationToken).ConfigureAwait(false))
        {
            throw RegistryErrors.AuthenticationRequired(Registry, (int)refusal.StatusCode, auth.Login,
                final && refusal.StatusCode == HttpStatusCode.Unauthorized ? "It refused a blob of the download again after a fresh login." : null);
        }

        using var probe = new HttpRequestMessage(HttpMethod.Get, BaseUri);
        await auth.AuthorizeAsync(probe, scopes, cancellationToken).ConfigureAwait(false);
        return probe.Headers.Authorization;
    }

    /// <summary>Repositories (<c>/v2/_catalog</c>, following <c>Link</c> pages); null when the registry does not allow listing.</summary>
    public async Task<IReadOnlyList<string>?> ListRepositoriesAsync(int max, CancellationToken cancellationToken)
    {
        try
        {
            return await ListAsync(new Uri(BaseUri, $"v2/_catalog?n={PageSize}"), "repositories", new[] { CatalogScope }, max, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelLibraryException e) when (e.ErrorId == ErrorIds.AuthenticationRequired || (e is NetworkException { HttpStatus: 404 or 405 }))
        {
            return null;
        }
    }

    /// <summary>Tags of a repository (<c>/v2/&lt;name&gt;/tags/list</c>, following <c>Link</c> pages).</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, int max, CancellationToken cancellationToken) =>
        await ListAsync(new Uri(BaseUri, $"v2/{repository}/tags/list?n={PageSize}"), "tags", new[] { PullScope(repository) }, max, cancellationToken).ConfigureAwait(false)
        ?? new List<string>();

    async Task<List<string>?> ListAsync(Uri first, string property, IReadOnlyList<string> scopes, int max, CancellationToken cancellationToken)
    {
        var all = new List<string>();
        Uri? next = first;
        for (var page = 0; next is not null && page < 1000 && all.Count < max; page++)
        {
            var uri = next;
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, uri), scopes, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return page == 0 && property == "tags" ? all : null;
            }

            EnsureSuccess(response, uri.AbsolutePath);
            var body = await OciHttp.ReadCappedAsync(response, 16 * 1024 * 1024, Registry, "listing", cancellationToken).ConfigureAwait(false);
            using (var json = JsonDocument.Parse(body))
            {
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty(property, out var items) && items.ValueKind == JsonValueKind.Array)
                {
                    all.AddRange(items.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!));
                }
            }

            next = NextLink(response, uri);
        }

        return all.Count > max ? all.GetRange(0, max) : all;
    }

    static Uri? NextLink(HttpResponseMessage response, Uri current)
    {
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links)
        {
            var match = LinkNext().Match(link);
            if (match.Success && Uri.TryCreate(current, match.Groups[1].Value, out var next) && next.Authority == current.Authority)
            {
                return next;
            }
        }

        return null;
    }

    /// <summary>True when the repository has the blob (HEAD).</summary>
    public async Task<bool> BlobExistsAsync(string repository, string digest, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, BlobUri(repository, digest)),
            new[] { PushScope(repository) }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        EnsureSuccess(response, $"the blob {digest}");
        return true;
    }

    /// <summary>Asks the registry to link a blob another repository has (201); false when it starts an upload instead.</summary>
    public async Task<bool> TryMountAsync(string repository, string digest, string fromRepository, CancellationToken cancellationToken)
    {
        var uri = new Uri(BaseUri, $"v2/{repository}/blobs/uploads/?mount={Uri.EscapeDataString(digest)}&from={Uri.EscapeDataString(fromRepository)}");
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(Array.Empty<byte>()) },
            new[] { PushScope(repository), PullScope(fromRepository) }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return true;
        }

        // 202 opened an upload session we do not use; the registry expires it.
        if (response.StatusCode == HttpStatusCode.Accepted || response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        EnsureSuccess(response, $"mounting {digest} from {fromRepository}");
        return false;
    }

    /// <summary>
    /// Uploads a blob in chunks (POST, then PATCH with <c>Content-Range</c>, then PUT with the digest). A chunk that
    /// fails on the network or with a 5xx is retried after asking the registry how much it has (GET on the upload
    /// URL, its <c>Range</c>), so a dropped upload continues where it stopped; an upload the registry forgot starts over.
    /// </summary>
    public async Task UploadBlobAsync(string repository, string digest, long size, Func<Stream> open, long chunkSize, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var scopes = new[] { PushScope(repository) };
        for (var restart = 0; ; restart++)
        {
            var location = await StartUploadAsync(repository, scopes, cancellationToken).ConfigureAwait(false);
            try
            {
                await using var stream = open();
                var offset = 0L;
                var failures = 0;
                while (offset < size)
                {
                    var length = (int)Math.Min(chunkSize, size - offset);
                    var buffer = new byte[length];
                    stream.Seek(offset, SeekOrigin.Begin);
                    await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
                    var start = offset;
                    try
                    {
                        using var response = await SendOnceAsync(() =>
                        {
                            var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(buffer) };
                            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                            request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{start}-{start + length - 1}");
                            return request;
                        }, scopes, cancellationToken).ConfigureAwait(false);
                        if (IsTransient(response.StatusCode))
                        {
                            throw new HttpRequestException($"HTTP {(int)response.StatusCode}", null, response.StatusCode);
                        }

                        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.RequestedRangeNotSatisfiable)
                        {
                            throw new UploadLostException();
                        }

                        EnsureSuccess(response, $"uploading {digest}");
                        location = LocationOf(response, location);
                        offset = start + length;
                        failures = 0;
                        progress?.Report(offset);
                    }
                    catch (Exception e) when (IsTransientFailure(e) && !cancellationToken.IsCancellationRequested && failures < RetryAttempts)
                    {
                        failures++;
                        await Task.Delay(Backoff(failures), cancellationToken).ConfigureAwait(false);
                        (location, offset) = await UploadStatusAsync(location, scopes, failures, cancellationToken).ConfigureAwait(false);
                        progress?.Report(offset);
                    }
                }

                var separator = location.Query.Length > 0 ? "&" : "?";
                var finish = new Uri(location + separator + "digest=" + Uri.EscapeDataString(digest));
                using var done = await SendAsync(() => new HttpRequestMessage(HttpMethod.Put, finish) { Content = new ByteArrayContent(Array.Empty<byte>()) },
                    scopes, cancellationToken).ConfigureAwait(false);
                if (done.StatusCode == HttpStatusCode.BadRequest)
                {
                    var text = await done.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    throw RegistryErrors.Unreachable(Registry, $"it refused the upload of {digest} ({Truncate(text)})", 400);
                }

                if (done.StatusCode == HttpStatusCode.NotFound)
                {
                    throw new UploadLostException();
                }

                EnsureSuccess(done, $"completing the upload of {digest}");
                return;
            }
            catch (UploadLostException) when (restart < 3)
            {
                // The registry forgot the session (restarted without a shared http.secret, or expired it): start over.
            }
        }
    }

    async Task<Uri> StartUploadAsync(string repository, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var uri = new Uri(BaseUri, $"v2/{repository}/blobs/uploads/");
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, uri) { Content = new ByteArrayContent(Array.Empty<byte>()) },
            scopes, cancellationToken).ConfigureAwait(false);
        EnsureSuccess(response, $"starting an upload to {repository}");
        return LocationOf(response, uri);
    }

    /// <summary>Where an upload stands: the next offset the registry expects, from the <c>Range: 0-&lt;last&gt;</c> of a GET on its URL.</summary>
    async Task<(Uri Location, long Offset)> UploadStatusAsync(Uri location, IReadOnlyList<string> scopes, int failures, CancellationToken cancellationToken)
    {
        for (var attempt = failures; ; attempt++)
        {
            try
            {
                using var response = await SendOnceAsync(() => new HttpRequestMessage(HttpMethod.Get, location), scopes, cancellationToken).ConfigureAwait(false);
                // Unknown (404), or invalid (400: Distribution cancels a session whose stored bytes went past the last
                // acknowledged offset, i.e. the registry died inside a chunk): this blob starts over.
                if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest)
                {
                    throw new UploadLostException();
                }

                if (IsTransient(response.StatusCode))
                {
                    throw new HttpRequestException($"HTTP {(int)response.StatusCode}", null, response.StatusCode);
                }

                EnsureSuccess(response, "reading the state of an upload");
                var offset = 0L;
                if (response.Headers.TryGetValues("Range", out var ranges) && RangeEnd().Match(ranges.First()) is { Success: true } m)
                {
                    // Distribution says 0-0 both for nothing and for one byte; resending byte 0 is refused, so take it as nothing.
                    var last = long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                    offset = last == 0 ? 0 : last + 1;
                }

                return (LocationOf(response, location), offset);
            }
            catch (Exception e) when (IsTransientFailure(e) && !cancellationToken.IsCancellationRequested && attempt < RetryAttempts)
            {
                await Task.Delay(Backoff(attempt + 1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Puts a manifest under a tag (or its digest); returns the digest the registry computed.</summary>
    public async Task<string> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType, CancellationToken cancellationToken)
    {
        var uri = new Uri(BaseUri, $"v2/{repository}/manifests/{reference}");
        using var response = await SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new ByteArrayContent(manifest) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            return request;
        }, new[] { PushScope(repository) }, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw RegistryErrors.Unreachable(Registry, $"it refused the manifest ({Truncate(text)})", 400);
        }

        EnsureSuccess(response, $"storing the manifest of {repository}:{reference}");
        return response.Headers.TryGetValues("Docker-Content-Digest", out var digests) ? digests.First() : DigestOf(manifest);
    }

    public static string DigestOf(ReadOnlySpan<byte> bytes) => Sha256Checksum.Format(SHA256.HashData(bytes));

    /// <summary>One request with login and redirects, retried on network failures and 408/429/5xx.</summary>
    async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            HttpResponseMessage response;
            using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            answer.CancelAfter(AnswerTimeout);
            try
            {
                response = await SendOnceAsync(create, scopes, answer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw RegistryErrors.Unreachable(Registry, $"it did not answer within {AnswerTimeout.TotalSeconds:0} seconds at {BaseUri}", inner: e);
            }
            catch (Exception e) when (IsTransientFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= RetryAttempts)
                {
                    throw RegistryErrors.Unreachable(Registry, $"it cannot be reached at {BaseUri} ({e.Message})", inner: e);
                }

                await Task.Delay(Backoff(attempt + 1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (IsTransient(response.StatusCode) && attempt < RetryAttempts)
            {
                response.Dispose();
                await Task.Delay(Backoff(attempt + 1), cancellationToken).ConfigureAwait(false);
                continue;
            }

            return response;
        }
    }

    /// <summary>One request with login and redirects; a 401 is answered once (a basic credential or a fresh token).</summary>
    async Task<HttpResponseMessage> SendOnceAsync(Func<HttpRequestMessage> create, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var retried = false;
        while (true)
        {
            var request = create();
            await auth.AuthorizeAsync(request, scopes, cancellationToken).ConfigureAwait(false);
            var response = await SendFollowingRedirectsAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized && await auth.AcceptChallengeAsync(response, scopes, retried, cancellationToken).ConfigureAwait(false))
            {
                response.Dispose();
                retried = true;
                continue;
            }

            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                var status = (int)response.StatusCode;
                response.Dispose();
                throw RegistryErrors.AuthenticationRequired(Registry, status, auth.Login);
            }

            return response;
        }
    }

    /// <summary>One request; the redirect handler follows redirects, checking each hop against the plain-http rule.</summary>
    Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        http.SendAsync(request.With(Net.HttpPolicy.ForSource(Registry, AllowInsecureHttp)), HttpCompletionOption.ResponseHeadersRead, cancellationToken);

    void EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw RegistryErrors.Unreachable(Registry, $"{what} failed with HTTP {(int)response.StatusCode} ({response.ReasonPhrase})", (int)response.StatusCode);
        }
    }

    static Uri LocationOf(HttpResponseMessage response, Uri current) =>
        response.Headers.Location is { } location ? (location.IsAbsoluteUri ? location : new Uri(current, location)) : current;

    static bool IsTransient(HttpStatusCode status) => (int)status is 408 or 429 or (>= 500 and not 501 and not 505);

    static bool IsTransientFailure(Exception e) => e is HttpRequestException or IOException or TimeoutException;

    TimeSpan Backoff(int attempt)
    {
        var delay = RetryDelay * Math.Pow(2, Math.Min(attempt - 1, 10));
        return delay < RetryMaxDelay ? delay : RetryMaxDelay;
    }

    static string Truncate(string text) => text.Length > 300 ? text[..300] + "..." : text;

    sealed class UploadLostException : Exception
    {
    }

    [GeneratedRegex("""<([^>]+)>\s*;\s*rel="?next"?""")]
    private static partial Regex LinkNext();

    [GeneratedRegex(@"^\s*(?:bytes\s*=?\s*)?0-(\d+)\s*$")]
    private static partial Regex RangeEnd();
}
