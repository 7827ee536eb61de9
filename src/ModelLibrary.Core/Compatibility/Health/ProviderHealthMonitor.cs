using System.Collections.Concurrent;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Checks providers in parallel and remembers the results briefly, so that listing status several times in a row
/// does not wait on the same timeouts again. A result is reused only for the same recipe and the same endpoint settings;
/// <c>refresh</c> bypasses the cache.
/// </summary>
public sealed class ProviderHealthMonitor
{
    public static readonly TimeSpan DefaultCacheDuration = TimeSpan.FromSeconds(30);

    readonly IProviderHealthProbe probe;
    readonly TimeSpan cacheDuration;
    readonly TimeProvider time;
    readonly ConcurrentDictionary<string, (ProviderHealth Health, DateTimeOffset Expires)> cache = new(StringComparer.OrdinalIgnoreCase);

    public ProviderHealthMonitor(IProviderHealthProbe? probe = null, TimeSpan? cacheDuration = null, TimeProvider? time = null)
    {
        this.probe = probe ?? new ProviderHealthProbe();
        this.cacheDuration = cacheDuration ?? DefaultCacheDuration;
        this.time = time ?? TimeProvider.System;
    }

    public async Task<IReadOnlyList<ProviderHealth>> CheckAsync(IEnumerable<ProviderCapabilities> providers, bool refresh = false, CancellationToken cancellationToken = default) =>
        await Task.WhenAll(providers.Select(p => CheckAsync(p, refresh, cancellationToken))).ConfigureAwait(false);

    public async Task<ProviderHealth> CheckAsync(ProviderCapabilities provider, bool refresh = false, CancellationToken cancellationToken = default)
    {
        // The key holds everything the answer depends on: the recipe (re-registering a provider with another endpoint)
        // and the environment the probe reads (OLLAMA_HOST changed within the session). Either change is probed anew.
        var key = provider.Name + "\n" + provider.HealthCheck.CacheKey + "\n" + probe.EnvironmentFingerprint(provider.HealthCheck);
        var now = time.GetUtcNow();
        if (!refresh && cache.TryGetValue(key, out var cached) && cached.Expires > now)
        {
            return cached.Health;
        }

        var health = await probe.ProbeAsync(provider, cancellationToken).ConfigureAwait(false);
        now = time.GetUtcNow();
        cache[key] = (health, now + cacheDuration);
        RemoveExpired(now);
        return health;
    }

    /// <summary>Each endpoint a session tries leaves its own entry; expired ones go so the cache does not grow with them.</summary>
    void RemoveExpired(DateTimeOffset now)
    {
        foreach (var entry in cache.Where(e => e.Value.Expires <= now))
        {
            cache.TryRemove(entry);
        }
    }

    public void Clear() => cache.Clear();
}
