namespace ModelLibrary.Downloads;

/// <summary>
/// While bytes flow: refreshes the live task (size, rate, time left) a few times a second for whoever watches,
/// and about once a second saves the resume state and writes the task and model rows. Never per buffer: a 2 GiB
/// download at full speed would otherwise write the registry thousands of times.
/// </summary>
internal sealed class ProgressTicker : IDisposable
{
    readonly TaskLifecycle lifecycle;
    readonly DownloadOptions options;
    readonly ActiveDownload active;
    readonly IReadOnlyList<Part> parts;
    readonly ResumeState state;
    readonly string statePath;
    readonly long bytesBefore;
    readonly long? grandTotal;
    readonly ProgressMeter meter;
    readonly CancellationTokenSource stop = new();
    readonly Task loop;

    /// <param name="bytesBefore">Bytes of a folder model's files already done (0 for a model of one file).</param>
    /// <param name="grandTotal">A folder model's total size; null: the file's own.</param>
    public ProgressTicker(TaskLifecycle lifecycle, DownloadOptions options, ActiveDownload active, IReadOnlyList<Part> parts, ResumeState state, string statePath, long bytesBefore = 0, long? grandTotal = null)
    {
        this.lifecycle = lifecycle;
        this.options = options;
        this.active = active;
        this.parts = parts;
        this.state = state;
        this.statePath = statePath;
        this.bytesBefore = bytesBefore;
        this.grandTotal = grandTotal;
        meter = new ProgressMeter(Downloaded());
        Refresh();
        loop = Task.Run(RunAsync);
    }

    long Downloaded() => bytesBefore + parts.Sum(p => p.Done);

    async Task RunAsync()
    {
        var persistEvery = options.PersistInterval;
        var lastPersist = Environment.TickCount64;
        using var timer = new PeriodicTimer(options.ReportInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop.Token))
            {
                Refresh();
                lifecycle.Publish(active);
                if (Environment.TickCount64 - lastPersist >= persistEvery.TotalMilliseconds)
                {
                    lastPersist = Environment.TickCount64;
                    SaveState();
                    await lifecycle.PersistAsync(active);
                    // Another process (Suspend-/Stop-ModelDownload in another session) may ask this one to stop.
                    active.TakeStopRequest();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    void Refresh()
    {
        var downloaded = Downloaded();
        meter.Sample(downloaded);
        var total = grandTotal ?? (state.TotalSize is { } own ? bytesBefore + own : null);
        active.Update(t =>
        {
            t.TotalSize = total ?? 0;
            t.DownloadedSize = downloaded;
            t.Progress = total is > 0 ? Math.Min(1, (double)downloaded / total.Value) : 0;
            t.BytesPerSecond = meter.BytesPerSecond;
            t.EstimatedTimeRemaining = meter.SecondsRemaining(downloaded, total);
        });
    }

    /// <summary>Records each part's done bytes. Called only with the bytes before them already written.</summary>
    void SaveState()
    {
        state.Parts = PartList.ToSaved(parts);
        try
        {
            state.Save(statePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A missed save costs re-downloading a second's worth of bytes after a crash; the next tick tries again.
        }
    }

    /// <summary>Stops ticking; with <paramref name="save"/>, records the final progress (on pause, failure, success).</summary>
    public async Task StopAsync(bool save)
    {
        stop.Cancel();
        await loop;
        if (save)
        {
            Refresh();
            SaveState();
            await lifecycle.PersistAsync(active);
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        stop.Dispose();
    }
}
