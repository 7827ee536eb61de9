namespace ModelLibrary.Downloads;

/// <summary>
/// Cancels one request when no byte has arrived for the stall timeout, so the part reconnects instead of hanging
/// on a connection that is open but dead. Checked by a timer, not reset per buffer: touching is one write.
/// </summary>
internal sealed class StallWatch : IDisposable
{
    readonly CancellationTokenSource cancellation;
    readonly Timer timer;
    readonly long limitMs;
    long lastActivity = Environment.TickCount64;
    volatile bool fired;

    public StallWatch(TimeSpan limit, CancellationToken outer)
    {
        limitMs = (long)limit.TotalMilliseconds;
        cancellation = CancellationTokenSource.CreateLinkedTokenSource(outer);
        var period = TimeSpan.FromMilliseconds(Math.Clamp(limitMs / 4, 25, 1000));
        timer = new Timer(_ => Check(), null, period, period);
    }

    public CancellationToken Token => cancellation.Token;
    public bool Fired => fired;

    public void Touch() => Volatile.Write(ref lastActivity, Environment.TickCount64);

    /// <summary>Not waiting for the server (a bandwidth limit holds the connection back) until the next <see cref="Touch"/>.</summary>
    public void Pause() => Volatile.Write(ref lastActivity, long.MaxValue / 2);

    void Check()
    {
        if (Environment.TickCount64 - Volatile.Read(ref lastActivity) > limitMs && Volatile.Read(ref lastActivity) < long.MaxValue / 4 && !cancellation.IsCancellationRequested)
        {
            fired = true;
            try
            {
                cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    public void Dispose()
    {
        timer.Dispose();
        cancellation.Dispose();
    }
}
