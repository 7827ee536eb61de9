using System.Collections.Concurrent;
using System.Text.Json.Serialization;

namespace ModelLibrary.TestServer;

/// <summary>What the server saw; tests assert on it (<c>GET /_stats</c>).</summary>
public sealed class ServerStats
{
    readonly ConcurrentDictionary<string, PathStats> perPath = new();
    readonly ConcurrentDictionary<string, Counter> requestCounters = new();
    readonly ConcurrentDictionary<string, Counter> bodyCounters = new();
    long requests;
    long bytesServed;
    long rangeRequests;
    int inFlight;
    int maxConcurrent;

    public long Requests => Interlocked.Read(ref requests);
    public long BytesServed => Interlocked.Read(ref bytesServed);
    public long RangeRequests => Interlocked.Read(ref rangeRequests);
    public int MaxConcurrent => Volatile.Read(ref maxConcurrent);
    public int InFlight => Volatile.Read(ref inFlight);

    public PathStats ForPath(string path) => perPath.GetOrAdd(path, _ => new PathStats());

    /// <summary>Counts a request; returns its number among requests with the same path and query (1-based).</summary>
    public long CountRequest(string path, string key, bool isRange)
    {
        Interlocked.Increment(ref requests);
        var stats = ForPath(path);
        Interlocked.Increment(ref stats.requests);
        if (isRange)
        {
            Interlocked.Increment(ref rangeRequests);
            Interlocked.Increment(ref stats.rangeRequests);
        }

        return requestCounters.GetOrAdd(key, _ => new Counter()).Next();
    }

    /// <summary>Marks the start of a body; returns its number among body responses for the same path and query.</summary>
    public long BeginBody(string key)
    {
        var now = Interlocked.Increment(ref inFlight);
        for (var max = Volatile.Read(ref maxConcurrent); now > max; max = Volatile.Read(ref maxConcurrent))
        {
            if (Interlocked.CompareExchange(ref maxConcurrent, now, max) == max)
            {
                break;
            }
        }

        return bodyCounters.GetOrAdd(key, _ => new Counter()).Next();
    }

    public void EndBody() => Interlocked.Decrement(ref inFlight);

    public void CountBytes(string path, long count)
    {
        Interlocked.Add(ref bytesServed, count);
        Interlocked.Add(ref ForPath(path).bytesServed, count);
    }

    public void Reset()
    {
        perPath.Clear();
        requestCounters.Clear();
        bodyCounters.Clear();
        Interlocked.Exchange(ref requests, 0);
        Interlocked.Exchange(ref bytesServed, 0);
        Interlocked.Exchange(ref rangeRequests, 0);
        Volatile.Write(ref maxConcurrent, Volatile.Read(ref inFlight));
    }

    public StatsSnapshot Snapshot() => new(
        Requests, BytesServed, RangeRequests, MaxConcurrent,
        perPath.ToDictionary(p => p.Key, p => new PathSnapshot(p.Value.Requests, p.Value.BytesServed, p.Value.RangeRequests)));

    public sealed class PathStats
    {
        internal long requests;
        internal long bytesServed;
        internal long rangeRequests;
        public long Requests => Interlocked.Read(ref requests);
        public long BytesServed => Interlocked.Read(ref bytesServed);
        public long RangeRequests => Interlocked.Read(ref rangeRequests);
    }

    sealed class Counter
    {
        long value;
        public long Next() => Interlocked.Increment(ref value);
    }
}

public sealed record PathSnapshot(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("bytesServed")] long BytesServed,
    [property: JsonPropertyName("rangeRequests")] long RangeRequests);

public sealed record StatsSnapshot(
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("bytesServed")] long BytesServed,
    [property: JsonPropertyName("rangeRequests")] long RangeRequests,
    [property: JsonPropertyName("maxConcurrent")] int MaxConcurrent,
    [property: JsonPropertyName("perPath")] IReadOnlyDictionary<string, PathSnapshot> PerPath);
