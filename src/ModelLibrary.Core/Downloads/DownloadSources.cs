namespace ModelLibrary.Downloads;

/// <summary>
/// The URLs one file comes from: the request's URL and, when a checksum will prove them, its mirrors. Records which
/// source served which bytes, so that when the whole file's hash is wrong the bytes of one source can be fetched
/// again from another and the source that served wrong bytes found and dropped.
/// </summary>
internal sealed class DownloadSources
{
    readonly object gate = new();
    readonly List<(long Start, long End, int Source)> served = new();

    /// <param name="hostsDirectory">The library's <c>downloads/hosts</c> (<see cref="HostSlots"/>), so the host budget holds
    /// across its processes; null: within this process only.</param>
    public DownloadSources(DownloadRequest request, string? hostsDirectory = null)
    {
        Request = request;
        var urls = new List<Uri> { request.Url };
        if (request.Checksum is not null && request.Mirrors is { } mirrors)
        {
            // Without a checksum nothing proves a mirror serves the same bytes: then the request's URL alone.
            urls.AddRange(mirrors.Where(m => !urls.Contains(m)));
        }

        All = urls.Select((url, i) => new Source(i, url, hostsDirectory)).ToList();
    }

    /// <summary>The request (the model's one file, or one file of a folder model) these sources serve.</summary>
    public DownloadRequest Request { get; }

    public IReadOnlyList<Source> All { get; }
    public IEnumerable<Source> Alive => All.Where(s => !s.Dropped);
    public bool HasMirrors => All.Count > 1;

    /// <summary>Bytes [start, end) on disk came from <paramref name="source"/> (the latest writer of a range wins).</summary>
    public void Served(Source source, long start, long end)
    {
        if (end <= start || !HasMirrors)
        {
            return;
        }

        lock (gate)
        {
            served.Add((start, end, source.Index));
        }
    }

    /// <summary>The ranges whose last writer was <paramref name="source"/>, merged, in file order.</summary>
    public List<(long Start, long End)> RangesOf(Source source)
    {
        lock (gate)
        {
            // Replay in order: a later write over the same bytes replaces an earlier one's attribution.
            var result = new List<(long Start, long End)>();
            var cuts = served.SelectMany(s => new[] { s.Start, s.End }).Distinct().OrderBy(x => x).ToArray();
            for (var i = 0; i + 1 < cuts.Length; i++)
            {
                var (a, b) = (cuts[i], cuts[i + 1]);
                var last = -1;
                foreach (var s in served)
                {
                    if (s.Start <= a && s.End >= b)
                    {
                        last = s.Source;
                    }
                }

                if (last == source.Index)
                {
                    if (result.Count > 0 && result[^1].End == a)
                    {
                        result[^1] = (result[^1].Start, b);
                    }
                    else
                    {
                        result.Add((a, b));
                    }
                }
            }

            return result;
        }
    }

    /// <summary>
    /// The alive source with the fewest connections whose host budget has room, taking one connection of it: first in
    /// this process (<see cref="HostConnections"/>), then a slot among the library's processes (<see cref="HostSlots"/>).
    /// </summary>
    public Source? TryLease(int cap)
    {
        foreach (var source in Alive.OrderBy(s => s.Connections))
        {
            if (source.Budget.TryAcquire(cap))
            {
                HostSlots.Slot? slot = null;
                if (source.Slots is { } slots && (slot = slots.TryTake(cap)) is null)
                {
                    // Other processes of the library hold the host's connections.
                    source.Budget.Release();
                    continue;
                }

                source.Held(slot);
                return source;
            }
        }

        return null;
    }

    /// <summary>
    /// Waits for a connection to the first alive source (the one a download cannot do without). Only a download that
    /// holds no connection to the host waits here, so two downloads never wait for each other.
    /// </summary>
    public async Task<Source> LeaseAsync(int cap, CancellationToken cancellationToken)
    {
        if (TryLease(cap) is { } free)
        {
            return free;
        }

        var source = Alive.FirstOrDefault() ?? All[0];
        await source.Budget.AcquireAsync(cap, cancellationToken);
        HostSlots.Slot? slot = null;
        try
        {
            slot = source.Slots is null ? null : await source.Slots.TakeAsync(cap, cancellationToken);
        }
        catch
        {
            source.Budget.Release();
            throw;
        }

        source.Held(slot);
        return source;
    }

    public void Return(Source source)
    {
        source.Released();
        source.Budget.Release();
    }

    /// <summary>One URL and what the download knows of it.</summary>
    internal sealed class Source
    {
        internal int connections;
        // The slot files this source's connections hold (any one of them goes back when a connection ends).
        readonly System.Collections.Concurrent.ConcurrentBag<HostSlots.Slot> slots = new();

        public Source(int index, Uri url, string? hostsDirectory)
        {
            Index = index;
            Url = url;
            Budget = HostConnections.For(url);
            Slots = hostsDirectory is null ? null : HostSlots.For(hostsDirectory, url);
        }

        public int Index { get; }
        public Uri Url { get; }
        public HostConnections.Budget Budget { get; }
        public HostSlots? Slots { get; }

        internal void Held(HostSlots.Slot? slot)
        {
            if (slot is not null)
            {
                slots.Add(slot);
            }

            Interlocked.Increment(ref connections);
        }

        internal void Released()
        {
            Interlocked.Decrement(ref connections);
            if (slots.TryTake(out var slot))
            {
                slot.Dispose();
            }
        }
        public int Connections => Volatile.Read(ref connections);
        public volatile bool Dropped;
        public string Host => Url.IsDefaultPort ? Url.Host : $"{Url.Host}:{Url.Port}";
    }
}
