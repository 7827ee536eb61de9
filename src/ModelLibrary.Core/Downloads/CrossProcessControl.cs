using ModelLibrary.Configuration;

namespace ModelLibrary.Downloads;

/// <summary>
/// Tasks this process does not run: those of another process (or another manager) and those left behind by a
/// process that died. Who runs a task is told by the model's lock file in <c>downloads/</c> (<see cref="DownloadLock"/>):
/// the operating system drops it with its process, so a row that says Pending, Downloading or Verifying while no one
/// holds the lock is an orphan, and it is settled as Paused by whoever looks at it first (a listing, a wait, a
/// suspend, a resume), so every session sees the same state at once. A running owner is asked to pause or cancel
/// through a <see cref="StopRequest"/> file, and followed through the store.
/// </summary>
internal sealed class CrossProcessControl
{
    readonly Func<LibraryConfiguration> configuration;
    readonly IDownloadTaskStore tasks;
    readonly TaskLifecycle lifecycle;
    readonly DownloadOptions options;

    public CrossProcessControl(Func<LibraryConfiguration> configuration, IDownloadTaskStore tasks, TaskLifecycle lifecycle, DownloadOptions options)
    {
        this.configuration = configuration;
        this.tasks = tasks;
        this.lifecycle = lifecycle;
        this.options = options;
    }

    static bool Unsettled(DownloadTask row) => row.Status is DownloadStatus.Pending or DownloadStatus.Downloading or DownloadStatus.Verifying;

    StagingFiles StagingFor(string modelId) => DownloadPaths.StagingFor(configuration(), modelId);

    /// <summary>
    /// The row settled as Paused when it says Pending/Downloading/Verifying while no one holds the model's lock (its
    /// process died); null when someone does hold it, or the row is already settled.
    /// </summary>
    public async Task<DownloadTask?> PauseIfOrphanedAsync(DownloadTask row, CancellationToken cancellationToken)
    {
        if (!Unsettled(row))
        {
            return null;
        }

        var staging = StagingFor(row.ModelId);
        using var probe = DownloadLock.TryAcquire(staging.Lock);
        if (probe is null)
        {
            return null;
        }

        // Read again under the lock: the owner may have settled it between our read and its exit.
        var current = await tasks.GetAsync(row.TaskId, cancellationToken) ?? row;
        return Unsettled(current) ? await lifecycle.ToPausedAsync(current, staging, cancellationToken) : current;
    }

    /// <summary>
    /// Rows as every session must see them: an orphan (see <see cref="PauseIfOrphanedAsync"/>) is settled as Paused
    /// in the store and returned so. <paramref name="runsHere"/> tells the tasks this process runs (never orphans).
    /// A row that cannot be settled (a read-only library) is shown Paused all the same.
    /// </summary>
    public async Task<IReadOnlyList<DownloadTask>> SettleOrphansAsync(IReadOnlyList<DownloadTask> rows, Func<string, bool> runsHere, CancellationToken cancellationToken)
    {
        var result = new List<DownloadTask>(rows.Count);
        foreach (var row in rows)
        {
            if (!Unsettled(row) || runsHere(row.TaskId))
            {
                result.Add(row);
                continue;
            }

            try
            {
                result.Add(await PauseIfOrphanedAsync(row, cancellationToken) ?? row);
            }
            catch (Exception e) when (e is ModelLibraryException or IOException or UnauthorizedAccessException)
            {
                // The library cannot be written (a reader of someone else's library): it is shown as it stands, and
                // as Paused when no one holds its lock, without recording it.
                var staging = StagingFor(row.ModelId);
                var shown = row.Clone();
                if (DownloadLock.IsHeld(staging.Lock) == false)
                {
                    TaskTransitions.ToPaused(shown, staging.Partial);
                }

                result.Add(shown);
            }
        }

        return result;
    }

    /// <summary>
    /// Cancels a task no one runs: deletes its partial under the model's lock and records it Cancelled. Null when
    /// another process holds the lock (then <see cref="AskOwnerAsync"/>).
    /// </summary>
    public async Task<DownloadTask?> TryCancelUnownedAsync(DownloadTask row)
    {
        var staging = StagingFor(row.ModelId);
        using var fileLock = DownloadLock.TryAcquire(staging.Lock);
        return fileLock is null ? null : await lifecycle.ToCancelledAsync(row, staging);
    }

    /// <summary>
    /// Asks the process that runs a task to pause or cancel it by leaving a <see cref="StopRequest"/> beside the
    /// partial, and follows the task in the store until its status shows the answer. When the owner dies meanwhile,
    /// the task is settled here (Paused, or Cancelled with its partial deleted). Refuses with DownloadInProgress when
    /// the owner does not answer within <see cref="DownloadOptions.OwnerAnswerTimeout"/>.
    /// </summary>
    public async Task<DownloadTask> AskOwnerAsync(DownloadTask row, StopReason reason, CancellationToken cancellationToken)
    {
        var staging = StagingFor(row.ModelId);
        StopRequest.Write(staging.Request, reason);
        var deadline = DateTime.UtcNow + options.OwnerAnswerTimeout;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(options.ForeignTaskPollInterval, cancellationToken);
            var current = await GetStoredAsync(row.TaskId, cancellationToken);
            var answered = reason == StopReason.Cancel
                ? current.Status is DownloadStatus.Cancelled or DownloadStatus.Completed or DownloadStatus.Failed
                : !Unsettled(current);
            if (answered)
            {
                return current;
            }

            // The owner died meanwhile: no one will take the request, and the task is ours to settle.
            if (await PauseIfOrphanedAsync(current, cancellationToken) is { } interrupted)
            {
                File.Delete(staging.Request);
                return reason == StopReason.Cancel ? await TryCancelUnownedAsync(interrupted) ?? interrupted : interrupted;
            }
        }

        File.Delete(staging.Request);
        throw DownloadManager.InProgress(row.ModelId, $"the process that runs it did not answer a request to {(reason == StopReason.Cancel ? "cancel" : "pause")} within {options.OwnerAnswerTimeout.TotalSeconds:0} seconds");
    }

    /// <summary>
    /// Follows a task another process runs until it is settled (returned), or until it runs in this process after
    /// all (null: wait for it here). A task whose owner dies on the way is settled Paused and returned.
    /// </summary>
    public async Task<DownloadTask?> FollowAsync(string taskId, IProgress<DownloadTask>? progress, Func<string, bool> runsHere, CancellationToken cancellationToken)
    {
        while (true)
        {
            var row = await GetStoredAsync(taskId, cancellationToken);
            progress?.Report(row);
            if (!Unsettled(row))
            {
                return row;
            }

            if (runsHere(taskId))
            {
                return null;
            }

            if (await PauseIfOrphanedAsync(row, cancellationToken) is { } interrupted)
            {
                progress?.Report(interrupted);
                return interrupted;
            }

            if (runsHere(taskId))
            {
                return null;
            }

            await Task.Delay(options.ForeignTaskPollInterval, cancellationToken);
        }
    }

    async Task<DownloadTask> GetStoredAsync(string taskId, CancellationToken cancellationToken) =>
        await tasks.GetAsync(taskId, cancellationToken) ?? throw Errors.DownloadTaskNotFound(taskId);
}
