namespace ModelLibrary.Downloads;

/// <summary>
/// Holds one download to at most a number of bytes per second over all its connections: each receive is paid
/// for after it arrived, and a connection that is ahead of the budget waits until the budget caught up. The
/// burst allowed is an eighth of a second's worth, so the rate holds over any window of a second or more.
/// </summary>
internal sealed class RateLimiter
{
    readonly double bytesPerSecond;
    readonly long startTicks = System.Diagnostics.Stopwatch.GetTimestamp();
    readonly object gate = new();
    double paidUntil; // seconds since start at which everything paid so far is within the rate

    public RateLimiter(long bytesPerSecond) => this.bytesPerSecond = bytesPerSecond;

    public long BytesPerSecond => (long)bytesPerSecond;

    /// <summary>Bytes accounted so far (for tests: the limiter's own view of what passed).</summary>
    public long Paid { get; private set; }

    /// <summary>Largest receive worth asking for at once, so one read does not overshoot the budget by much.</summary>
    public int ReadSize(int bufferSize) => (int)Math.Clamp(bytesPerSecond / 16, 4096, bufferSize);

    public async Task PayAsync(int count, CancellationToken cancellationToken)
    {
        TimeSpan wait;
        lock (gate)
        {
            var now = Elapsed();
            paidUntil = Math.Max(paidUntil, now - 0.125) + count / bytesPerSecond;
            Paid += count;
            wait = TimeSpan.FromSeconds(paidUntil - now - 0.125);
        }

        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, cancellationToken);
        }
    }

    double Elapsed() => System.Diagnostics.Stopwatch.GetElapsedTime(startTicks).TotalSeconds;
}
