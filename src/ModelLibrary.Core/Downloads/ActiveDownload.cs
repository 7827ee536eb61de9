namespace ModelLibrary.Downloads;

/// <summary>Why a running download is being stopped.</summary>
internal enum StopReason
{
    None,
    /// <summary>Suspend: keep the bytes and the state; the task becomes Paused.</summary>
    Pause,
    /// <summary>Cancel: delete the partial file and its state; the task becomes Cancelled.</summary>
    Cancel,
    /// <summary>Tests only: stop as a killed process would, writing nothing more.</summary>
    Abandon,
}

/// <summary>
/// A download running (or waiting for a slot) in this process: its live task, the lock it holds, and the means
/// to stop it. The task object is only touched under <see cref="Update"/>; everyone else gets copies.
/// </summary>
internal sealed class ActiveDownload
{
    readonly object sync = new();
    readonly DownloadTask task;
    readonly CancellationTokenSource control = new();
    int stopReason;

    public ActiveDownload(DownloadTask task, DownloadRequest request, ModelInfo model, DownloadPaths paths, DownloadLock fileLock)
    {
        this.task = task;
        Request = request;
        Model = model;
        Paths = paths;
        Lock = fileLock;
    }

    public string TaskId => task.TaskId;
    public string ModelId => Request.ModelId;
    public DownloadRequest Request { get; }
    public ModelInfo Model { get; }
    public DownloadPaths Paths { get; }
    public DownloadLock Lock { get; }
    public CancellationToken StopToken => control.Token;
    public StopReason StopReason => (StopReason)Volatile.Read(ref stopReason);
    public Task Completion { get; set; } = Task.CompletedTask;
    /// <summary>Serializes writes of this task to the store.</summary>
    public SemaphoreSlim PersistLock { get; } = new(1, 1);
    /// <summary>Why it failed, when it did; <see cref="DownloadManager.WaitAsync"/> throws this very exception.</summary>
    public ModelLibraryException? Failure { get; set; }

    /// <summary>Honours a pause or cancel request another process left beside the partial (see <see cref="StopRequest"/>).</summary>
    public void TakeStopRequest()
    {
        if (StopRequest.TryTake(Paths.Staging.Request) is { } reason)
        {
            RequestStop(reason);
        }
    }

    public DownloadTask Snapshot()
    {
        lock (sync)
        {
            return task.Clone();
        }
    }

    public void Update(Action<DownloadTask> change)
    {
        lock (sync)
        {
            change(task);
            task.UpdatedAt = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>The first reason wins, except that a cancel overrides a pause still under way.</summary>
    public void RequestStop(StopReason reason)
    {
        if (Interlocked.CompareExchange(ref stopReason, (int)reason, (int)StopReason.None) == (int)StopReason.None
            || (reason == StopReason.Cancel && Interlocked.CompareExchange(ref stopReason, (int)reason, (int)StopReason.Pause) == (int)StopReason.Pause))
        {
            control.Cancel();
        }
    }
}
