using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ModelLibrary.Downloads;

/// <summary>
/// The connections of one download: starts on one, adds more while they raise the total rate, up to what the
/// host's budget (<see cref="HostConnections"/>, <c>DownloadConnections</c>) has free, and lets connections go
/// on 429/503 or when added ones did not help. Each connection takes work from the <see cref="PartList"/> until
/// none is left (splitting a busy connection's range when nothing is unclaimed), from the source
/// (<see cref="DownloadSources"/>) it was leased on; a source that fails is dropped while another one is alive.
/// </summary>
internal sealed class Connections
{
    readonly PartList parts;
    readonly DownloadSources sources;
    readonly PartFetcher fetcher;
    readonly DownloadOptions options;
    readonly Polly.ResiliencePipeline pipeline;
    readonly int cap;
    readonly Action<string> report;
    readonly ConcurrentBag<Task> running = new();
    int active;
    int target = 1;
    volatile bool backedOff;
    Exception? firstFailure;
    CancellationTokenSource? stop;

    public Connections(PartList parts, DownloadSources sources, PartFetcher fetcher, DownloadOptions options, Polly.ResiliencePipeline pipeline, int cap, Action<string> report)
    {
        this.parts = parts;
        this.sources = sources;
        this.fetcher = fetcher;
        this.options = options;
        this.pipeline = pipeline;
        this.cap = Math.Max(1, cap);
        this.report = report;
    }

    /// <summary>Most connections this download had at once.</summary>
    public int MostActive { get; private set; }

    public int Active => Volatile.Read(ref active);

    /// <summary>
    /// Runs until every part is done. The first real failure stops the other connections and is the one thrown.
    /// <paramref name="mayGrow"/>: the file is split into ranges (a single stream never gets a second connection).
    /// </summary>
    public async Task RunAsync(bool mayGrow, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        this.stop = stop;
        var first = await sources.LeaseAsync(cap, stop.Token);
        Start(first);
        if (mayGrow && cap > 1)
        {
            await GrowAsync(stop.Token);
        }

        while (true)
        {
            var tasks = running.ToArray();
            try
            {
                await Task.WhenAll(tasks);
            }
            catch (Exception) when (firstFailure is not null || cancellationToken.IsCancellationRequested)
            {
                // Reported below: a stop request wins, else the first failure.
            }

            if (running.Count == tasks.Length)
            {
                break;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (firstFailure is not null)
        {
            ExceptionDispatchInfo.Throw(firstFailure);
        }
    }

    void Start(DownloadSources.Source source)
    {
        var now = Interlocked.Increment(ref active);
        MostActive = Math.Max(MostActive, now);
        running.Add(Task.Run(() => WorkAsync(source, stop!)));
    }

    /// <summary>
    /// Watches the first connection for one <see cref="DownloadOptions.ConnectionRampWindow"/>: one faster than
    /// <see cref="DownloadOptions.SingleConnectionRate"/> (loopback, a fast LAN) stays alone, as more would only
    /// compete for the same cores. Otherwise the connections grow fourfold each window while the total rate grows
    /// with them (a server that caps each connection), and stop, giving the last ones back, when it no longer does.
    /// </summary>
    async Task GrowAsync(CancellationToken token)
    {
        var window = options.ConnectionRampWindow;
        var rate = await MeasureAsync(window, token);
        if (rate is null || (options.SingleConnectionRate > 0 && rate >= options.SingleConnectionRate))
        {
            return;
        }

        while (!token.IsCancellationRequested && !backedOff && Active > 0)
        {
            var before = Active;
            // Fourfold each window; the first step at once to as many as the single connection's rate says the
            // link needs to reach SingleConnectionRate (a CDN's 10 MB/s per connection: the cap), at least four.
            var want = Math.Min(cap, Math.Max(before * 4, before + 1));
            if (before == 1 && options.SingleConnectionRate > 0 && rate.Value > 0)
            {
                want = (int)Math.Clamp(Math.Ceiling(options.SingleConnectionRate / rate.Value), want, cap);
            }

            var added = 0;
            while (Active < want && parts.HasWorkForAnother() && sources.TryLease(cap) is { } source)
            {
                Interlocked.Exchange(ref target, Active + 1);
                Start(source);
                added++;
            }

            if (added == 0)
            {
                if (Active >= cap || !parts.HasWorkForAnother())
                {
                    return;
                }

                // The host's budget is taken by other downloads: look again in a while.
                if (await MeasureAsync(window * 4, token) is null)
                {
                    return;
                }

                continue;
            }

            var grown = await MeasureAsync(window, token);
            if (grown is null)
            {
                return;
            }

            report($"{Active} connections: {ByteSize.Format((long)grown.Value)}/s (was {ByteSize.Format((long)rate.Value)}/s on {before}).");
            // Added connections earn their place when the rate grew by at least a quarter of what they would add
            // at the old per-connection rate; otherwise they go back (after their current range) and growth stops.
            if (grown.Value < rate.Value * (1 + 0.25 * added / before))
            {
                Interlocked.Exchange(ref target, before);
                report($"More connections did not help; back to {before}.");
                return;
            }

            rate = grown;
        }
    }

    /// <summary>Bytes per second over the next <paramref name="window"/>; null when the transfer ended or stopped first.</summary>
    async Task<double?> MeasureAsync(TimeSpan window, CancellationToken token)
    {
        var before = parts.Downloaded;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await Task.WhenAny(Task.WhenAll(running.ToArray()), Task.Delay(window, token));
        }
        catch (OperationCanceledException)
        {
            return null;
        }

        if (token.IsCancellationRequested || running.All(t => t.IsCompleted))
        {
            return null;
        }

        return (parts.Downloaded - before) / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    async Task WorkAsync(DownloadSources.Source source, CancellationTokenSource stop)
    {
        var token = stop.Token;
        DownloadSources.Source? leased = source;
        try
        {
            while (!token.IsCancellationRequested)
            {
                // Fewer wanted (429/503, or added connections did not help): this one goes.
                if (Active > Volatile.Read(ref target) && Active > 1 && TryRetire())
                {
                    return;
                }

                var part = parts.Take();
                if (part is null)
                {
                    break;
                }

                part.Source = source.Index;
                var released = false;
                try
                {
                    await FetchPartAsync(part, source, token);
                }
                catch (BackOffException e)
                {
                    backedOff = true;
                    Interlocked.Exchange(ref target, Math.Max(1, Active - 1));
                    report($"{source.Host} asks to slow down ({e.Message.TrimEnd('.')}); {Active - 1} connection(s) go on.");
                    if (TryRetire())
                    {
                        return;
                    }
                }
                catch (Exception e) when (!token.IsCancellationRequested && IsSourceFault(e) && sources.Alive.Any(s => s != source))
                {
                    // A mirror (or the request's URL) that fails is dropped; the range goes on from another source.
                    if (!source.Dropped)
                    {
                        source.Dropped = true;
                        report($"Source {source.Host} dropped: {Net.SafeUrl.MaskText(e.Message)?.TrimEnd('.')}. Going on from {string.Join(", ", sources.Alive.Select(s => s.Host))}.");
                    }

                    // Released once, here, before the wait for another source: released again after it (in the
                    // finally), it would be taken from the connection that picked it up meanwhile, and a third one
                    // could take it too; two connections on one part count its bytes twice (a wrong hash).
                    parts.Release(part);
                    released = true;
                    sources.Return(source);
                    leased = null;
                    source = await sources.LeaseAsync(cap, token);
                    leased = source;
                    continue;
                }
                finally
                {
                    if (!released)
                    {
                        parts.Release(part);
                    }
                }
            }

            Interlocked.Decrement(ref active);
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            // The first to fail (before anyone was told to stop) is the cause; the others only echo it.
            Interlocked.Decrement(ref active);
            Interlocked.CompareExchange(ref firstFailure, e, null);
            stop.Cancel();
        }
        catch (Exception)
        {
            Interlocked.Decrement(ref active);
            throw;
        }
        finally
        {
            if (leased is not null)
            {
                sources.Return(leased);
            }
        }
    }

    bool TryRetire()
    {
        while (true)
        {
            var now = Volatile.Read(ref active);
            if (now <= 1)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref active, now - 1, now) == now)
            {
                return true;
            }
        }
    }

    static bool IsSourceFault(Exception e) =>
        e is TransientDownloadException or RestartDownloadException or DiscardPartialException or NetworkException;

    /// <summary>
    /// One part to the end. Polly spaces out retries of attempts that got nothing; an attempt that made progress
    /// before failing (a dropped connection, a stall) reconnects at once without using up a retry, so a long
    /// download survives any number of hiccups as long as bytes keep coming. A 429 or 503 while other connections
    /// run lets this one go instead (<see cref="BackOffException"/>).
    /// </summary>
    async Task FetchPartAsync(Part part, DownloadSources.Source source, CancellationToken cancellationToken)
    {
        await pipeline.ExecuteAsync(async token =>
        {
            while (!part.IsComplete)
            {
                var before = part.Done;
                var from = part.Position;
                try
                {
                    await fetcher.FetchAsync(part, source.Url, token);
                }
                catch (TransientDownloadException e) when (e.HttpStatus is 429 or 503 && Active > 1 && !token.IsCancellationRequested)
                {
                    throw new BackOffException(e.Message, e);
                }
                catch (TransientDownloadException e) when (part.Done > before && !token.IsCancellationRequested)
                {
                    report($"{e.Message.TrimEnd('.')}; reconnecting at once (bytes were still coming).");
                }
                finally
                {
                    sources.Served(source, from, part.Position);
                }
            }
        }, cancellationToken);
    }

    /// <summary>The server said 429 or 503 while this download had other connections: one fewer, no retry.</summary>
    sealed class BackOffException : Exception
    {
        public BackOffException(string message, Exception inner) : base(message, inner)
        {
        }
    }
}
