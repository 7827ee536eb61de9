using System.Diagnostics;

namespace ModelLibrary.Downloads;

/// <summary>
/// Moves a task from one status to the next (<see cref="TaskTransitions"/>) and records the change where others see
/// it: the task row, the model's registry state, and this process's watchers. The manager, the run, the progress
/// ticker and <see cref="CrossProcessControl"/> all go through here; none of them sets a status itself.
/// </summary>
internal sealed class TaskLifecycle
{
    readonly IDownloadTaskStore tasks;
    readonly IModelStateSink models;
    readonly Action<DownloadTask> publish;
    readonly Action<ActiveDownload, string> report;

    /// <param name="publish">Tells this process's watchers (a copy of the task; called on the engine's threads).</param>
    /// <param name="report">Tells them what the engine does for a task (source, connections, retries; -Verbose).</param>
    public TaskLifecycle(IDownloadTaskStore tasks, IModelStateSink models, Action<DownloadTask> publish, Action<ActiveDownload, string> report)
    {
        this.tasks = tasks;
        this.models = models;
        this.publish = publish;
        this.report = report;
    }

    // ---- a task that runs in this process -------------------------------------------------------------------

    /// <summary>A new task, or a paused, failed or orphaned one continued under its own id; the model shows Downloading.</summary>
    /// <param name="model">The model being downloaded; its registry row is made from it when it has none.</param>
    public async Task ToPendingAsync(DownloadTask row, bool isNew, DownloadRequest request, DownloadPaths paths, ModelInfo model, CancellationToken cancellationToken)
    {
        TaskTransitions.ToPending(row, request, paths.Partial);
        if (isNew)
        {
            await tasks.InsertAsync(row, cancellationToken);
        }
        else
        {
            await tasks.UpdateAsync(row, cancellationToken);
        }

        await models.MarkDownloadingAsync(model, cancellationToken);
    }

    public async Task ToDownloadingAsync(ActiveDownload active)
    {
        active.Update(t => TaskTransitions.ToDownloading(t, active.Paths.Partial));
        await PersistAsync(active);
        Publish(active);
    }

    public async Task ToVerifyingAsync(ActiveDownload active, long length)
    {
        active.Update(t => TaskTransitions.ToVerifying(t, length, active.Paths.Partial));
        await PersistAsync(active);
        Publish(active);
    }

    /// <summary>The file is in place: the model becomes Local (it must never sit verified but unregistered).</summary>
    public async Task ToCompletedAsync(ActiveDownload active, LocalModelFile file)
    {
        await models.MarkLocalAsync(active.Model, file, CancellationToken.None);
        active.Update(t => TaskTransitions.ToCompleted(t, file.LocalPath, file.Checksum));
    }

    public async Task ToFailedAsync(ActiveDownload active, ModelLibraryException failure)
    {
        active.Failure = failure;
        active.Update(t => TaskTransitions.ToFailed(t, failure.ErrorId, failure.Message, active.Paths.Partial));
        await Quietly(() => models.MarkErrorAsync(active.Model, Net.SafeUrl.MaskText(failure.Message)!, CancellationToken.None));
    }

    public async Task ToPausedAsync(ActiveDownload active)
    {
        active.Update(t => TaskTransitions.ToPaused(t, active.Paths.Partial));
        await Quietly(() => models.MarkAvailableAsync(active.ModelId, CancellationToken.None));
    }

    /// <summary>Deletes the partial and its state, then the task is Cancelled and the model Available again.</summary>
    public async Task ToCancelledAsync(ActiveDownload active)
    {
        await Quietly(() =>
        {
            active.Paths.Staging.DeletePartial();
            return Task.CompletedTask;
        });
        active.Update(TaskTransitions.ToCancelled);
        await Quietly(() => models.MarkAvailableAsync(active.ModelId, CancellationToken.None));
    }

    // ---- a task no process runs (its owner died, or it was never started here); the caller holds its lock -----

    /// <summary>A row left Pending/Downloading/Verifying by a process that is gone: its bytes wait for Resume.</summary>
    public async Task<DownloadTask> ToPausedAsync(DownloadTask row, StagingFiles staging, CancellationToken cancellationToken)
    {
        TaskTransitions.ToPaused(row, staging.Partial);
        await tasks.UpdateAsync(row, cancellationToken);
        await models.MarkAvailableAsync(row.ModelId, cancellationToken);
        return row;
    }

    public async Task<DownloadTask> ToCancelledAsync(DownloadTask row, StagingFiles staging)
    {
        staging.DeletePartial();
        TaskTransitions.ToCancelled(row);
        await tasks.UpdateAsync(row, CancellationToken.None);
        await models.MarkAvailableAsync(row.ModelId, CancellationToken.None);
        return row;
    }

    // ---- recording ------------------------------------------------------------------------------------------

    /// <summary>
    /// Writes the task row; failures to record never fail the download. The model's progress is not written: the
    /// library derives it from the task.
    /// </summary>
    public async Task PersistAsync(ActiveDownload active)
    {
        var snapshot = active.Snapshot();
        await active.PersistLock.WaitAsync();
        try
        {
            await Quietly(() => tasks.UpdateAsync(snapshot, CancellationToken.None));
        }
        finally
        {
            active.PersistLock.Release();
        }
    }

    public void Publish(ActiveDownload active) => publish(active.Snapshot());

    public void Report(ActiveDownload active, string text) => report(active, text);

    static async Task Quietly(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e)
        {
            Trace.TraceWarning($"ModelLibrary: recording download progress failed: {e}");
        }
    }
}
