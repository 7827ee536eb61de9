namespace ModelLibrary.Downloads;

/// <summary>
/// Download rate smoothed over a few seconds (exponential moving average), so the rate and time remaining shown
/// to users do not jump with every burst.
/// </summary>
internal sealed class ProgressMeter
{
    static readonly TimeSpan Smoothing = TimeSpan.FromSeconds(3);

    long lastBytes;
    long lastTicks = Environment.TickCount64;
    double? rate;

    public ProgressMeter(long startBytes) => lastBytes = startBytes;

    /// <summary>Bytes per second, once at least one interval was measured.</summary>
    public double? BytesPerSecond => rate;

    public void Sample(long totalBytes)
    {
        var now = Environment.TickCount64;
        var seconds = (now - lastTicks) / 1000.0;
        if (seconds < 0.05)
        {
            return;
        }

        var instant = Math.Max(0, totalBytes - lastBytes) / seconds;
        var weight = 1 - Math.Exp(-seconds / Smoothing.TotalSeconds);
        rate = rate is { } previous ? previous + weight * (instant - previous) : instant;
        lastBytes = totalBytes;
        lastTicks = now;
    }

    /// <summary>Seconds to go at the current rate; null when either is unknown.</summary>
    public double? SecondsRemaining(long downloaded, long? total) =>
        total is { } t && rate is > 1 ? Math.Max(0, t - downloaded) / rate.Value : null;
}
