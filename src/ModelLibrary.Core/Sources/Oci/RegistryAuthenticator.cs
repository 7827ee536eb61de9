using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using ModelLibrary.Net;

namespace ModelLibrary.Sources.Oci;

/// <summary>
/// Logs requests in to one registry: nothing until the registry asks; then HTTP basic, or the bearer-token
/// challenge of the distribution token spec (distribution/distribution docs/spec/auth/token.md):
/// <c>WWW-Authenticate: Bearer realm="...",service="...",scope="..."</c>, a GET to the realm (on whatever host it
/// names) with the basic credential when there is one, and the token sent as <c>Authorization: Bearer</c>.
/// Tokens are cached per scope until shortly before they expire (<c>expires_in</c>, 60 s when absent, as the spec
/// says).
/// </summary>
internal sealed partial class RegistryAuthenticator
{
    static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(10);
    static readonly TimeSpan DefaultLifetime = TimeSpan.FromSeconds(60);

    readonly HttpClient http;
    readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> tokens = new(StringComparer.Ordinal);
    readonly SemaphoreSlim tokenLock = new(1, 1);
    volatile Challenge? challenge;

    public RegistryAuthenticator(string registry, RegistryLogin login, HttpClient http)
    {
        Registry = registry;
        Login = login;
        this.http = http;
    }

    public string Registry { get; }
    public RegistryLogin Login { get; }

    /// <summary>True once the registry said which login it wants (a 401's challenge).</summary>
    public bool HasChallenge => challenge is not null;

    /// <summary>Sets the Authorization a request for <paramref name="scopes"/> should carry, from what the registry asked for before.</summary>
    public async ValueTask AuthorizeAsync(HttpRequestMessage request, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        switch (challenge)
        {
            case { Scheme: "basic" } when Login.Credential is { } credential:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicValue);
                break;
            case { Scheme: "bearer" } bearer:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await TokenAsync(bearer, scopes, null, cancellationToken).ConfigureAwait(false));
                break;
        }
    }

    /// <summary>
    /// Takes a 401's challenge. True when a retry may succeed (a scheme this client can answer and that it has
    /// not just answered in vain); the next <see cref="AuthorizeAsync"/> then answers it.
    /// </summary>
    public async Task<bool> AcceptChallengeAsync(HttpResponseMessage response, IReadOnlyList<string> scopes, bool alreadyRetried, CancellationToken cancellationToken)
    {
        var parsed = response.Headers.WwwAuthenticate.Select(Parse).FirstOrDefault(c => c is { Scheme: "bearer" or "basic" });
        if (parsed is null || alreadyRetried)
        {
            return false;
        }

        challenge = parsed;
        if (parsed.Scheme == "basic")
        {
            return Login.Credential is not null;
        }

        // A fresh token for what the registry asked for; a stale cached one may be why it refused.
        tokens.TryRemove(CacheKey(parsed, scopes), out _);

        await TokenAsync(parsed, scopes, parsed.Scope, cancellationToken).ConfigureAwait(false);
        return true;
    }

    async Task<string> TokenAsync(Challenge bearer, IReadOnlyList<string> scopes, string? challengeScope, CancellationToken cancellationToken)
    {
        var key = CacheKey(bearer, scopes);
        if (tokens.TryGetValue(key, out var cached) && cached.Expires > DateTimeOffset.UtcNow)
        {
            return cached.Token;
        }

        await tokenLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (tokens.TryGetValue(key, out cached) && cached.Expires > DateTimeOffset.UtcNow)
            {
                return cached.Token;
            }

            var fetched = await FetchTokenAsync(bearer, scopes, challengeScope, cancellationToken).ConfigureAwait(false);
            tokens[key] = fetched;
            return fetched.Token;
        }
        finally
        {
            tokenLock.Release();
        }
    }

    async Task<(string Token, DateTimeOffset Expires)> FetchTokenAsync(Challenge bearer, IReadOnlyList<string> scopes, string? challengeScope, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(bearer.Realm, UriKind.Absolute, out var realm) || (realm.Scheme != Uri.UriSchemeHttps && !(realm.Scheme == Uri.UriSchemeHttp && OciReference.IsLoopbackHost(realm.Host))))
        {
            throw RegistryErrors.Unreachable(Registry, $"its token realm '{bearer.Realm}' is not an https URL (plain http only to loopback)");
        }

        var query = new List<string>();
        if (bearer.Service is { } service)
        {
            query.Add("service=" + Uri.EscapeDataString(service));
        }

        foreach (var scope in scopes.Append(challengeScope).Where(s => !string.IsNullOrEmpty(s)).Distinct(StringComparer.Ordinal))
        {
            query.Add("scope=" + Uri.EscapeDataString(scope!));
        }

        var builder = new UriBuilder(realm) { Query = string.Join('&', new[] { realm.Query.TrimStart('?') }.Where(q => q.Length > 0).Concat(query)) };
        using var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri).With(Net.HttpPolicy.ForSource(Registry, allowInsecureHttp: false));
        if (Login.Credential is { } credential)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicValue);
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw RegistryErrors.Unreachable(Registry, $"its token service {realm.GetLeftPart(UriPartial.Path)} cannot be reached ({e.Message})", inner: e);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw RegistryErrors.AuthenticationRequired(Registry, (int)response.StatusCode, Login, $"The token service {realm.GetLeftPart(UriPartial.Path)} refused the login.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw RegistryErrors.Unreachable(Registry, $"its token service {realm.GetLeftPart(UriPartial.Path)} answered HTTP {(int)response.StatusCode}", (int)response.StatusCode);
            }

            var body = await OciHttp.ReadCappedAsync(response, 1024 * 1024, Registry, "token", cancellationToken).ConfigureAwait(false);
            try
            {
                using var json = JsonDocument.Parse(body);
                var root = json.RootElement;
                var token = root.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()
                    : root.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
                if (string.IsNullOrEmpty(token))
                {
                    throw new JsonException("no token");
                }

                var lifetime = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : DefaultLifetime;
                var issued = root.TryGetProperty("issued_at", out var i) && i.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(i.GetString(), out var at) ? at : DateTimeOffset.UtcNow;
                if (issued > DateTimeOffset.UtcNow)
                {
                    issued = DateTimeOffset.UtcNow;
                }

                var margin = lifetime > ExpiryMargin * 2 ? ExpiryMargin : TimeSpan.Zero;
                return (token, issued + lifetime - margin);
            }
            catch (JsonException)
            {
                throw RegistryErrors.Unreachable(Registry, $"its token service {realm.GetLeftPart(UriPartial.Path)} answered without a token");
            }
        }
    }

    static string CacheKey(Challenge bearer, IReadOnlyList<string> scopes) => $"{bearer.Realm}|{bearer.Service}|{string.Join(' ', scopes)}";

    static Challenge? Parse(AuthenticationHeaderValue header)
    {
        var scheme = header.Scheme.ToLowerInvariant();
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (Match m in ChallengeParameter().Matches(header.Parameter ?? ""))
        {
            parameters[m.Groups[1].Value] = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
        }

        return new Challenge(scheme, parameters.GetValueOrDefault("realm"), parameters.GetValueOrDefault("service"), parameters.GetValueOrDefault("scope"));
    }

    sealed record Challenge(string Scheme, string? Realm, string? Service, string? Scope);

    [GeneratedRegex("""([A-Za-z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))""")]
    private static partial Regex ChallengeParameter();
}
