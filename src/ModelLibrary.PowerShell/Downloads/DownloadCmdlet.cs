using System.Management.Automation;
using ModelLibrary.Downloads;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Downloads;

/// <summary>What the download cmdlets share: waiting on tasks with progress bars, and making jobs of them.</summary>
public abstract class DownloadCmdlet : ModelLibraryCmdlet
{
    protected static DownloadManager Downloads => Service.Downloads;

    /// <summary>
    /// Waits for every task at once, with a progress bar each, writing each task as it finishes and an error for
    /// each that fails. With <paramref name="pauseOnStop"/>, Ctrl+C pauses what is still running (the bytes stay
    /// for Resume-ModelDownload); otherwise it only stops the waiting.
    /// </summary>
    protected void WaitInForeground(IReadOnlyCollection<string> taskIds, bool pauseOnStop, TimeSpan? timeout = null)
    {
        if (taskIds.Count == 0)
        {
            return;
        }

        var finished = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            Run(async ct =>
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
                if (timeout is { } t)
                {
                    limit.CancelAfter(t);
                }

                await Task.WhenAll(taskIds.Select(id => WaitOneAsync(id, finished, limit.Token))).ConfigureAwait(false);
            });
        }
        catch (OperationCanceledException) when (!StopToken.IsCancellationRequested && timeout is not null)
        {
            foreach (var id in taskIds.Where(id => !finished.Contains(id)))
            {
                var task = Run(ct => Downloads.GetTaskAsync(id, ct));
                WriteError(new ErrorRecord(new TimeoutException($"Download task '{id}' of '{task.ModelId}' did not finish within {timeout.Value.TotalSeconds:0} seconds; it goes on."),
                    "DownloadWaitTimeout", ErrorCategory.OperationTimeout, task));
            }
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested && pauseOnStop)
        {
            // Ctrl+C: keep the bytes, free the slots. Nothing may be written now; the pipeline is stopping.
            foreach (var id in taskIds.Where(id => !finished.Contains(id)))
            {
                try
                {
                    Downloads.SuspendAsync(id).GetAwaiter().GetResult();
                }
                catch (ModelLibraryException)
                {
                }
            }

            throw;
        }
    }

    async Task WaitOneAsync(string taskId, HashSet<string> finished, CancellationToken ct)
    {
        var progress = new InlineProgress<DownloadTask>(t => Post(() => WriteProgress(DownloadProgress.Record(t))));
        try
        {
            var task = await Downloads.WaitAsync(taskId, progress, ct).ConfigureAwait(false);
            lock (finished)
            {
                finished.Add(taskId);
            }

            Post(() =>
            {
                WriteProgress(DownloadProgress.Record(task));
                WriteObject(task);
            });
        }
        catch (ModelLibraryException e)
        {
            lock (finished)
            {
                finished.Add(taskId);
            }

            Post(() => WriteLibraryError(e, taskId));
        }
    }

    /// <summary>A job that follows a started task; Stop-Job cancels it, its SuspendJob()/ResumeJob() pause and resume it.</summary>
    protected ModelDownloadJob StartJob(DownloadTask task, ModelInfo? model)
    {
        var downloads = Downloads;
        var taskId = task.TaskId;
        var job = new ModelDownloadJob(MyInvocation.Line, $"Download {task.ModelId}", task.ModelId, async (job, ct) =>
        {
            var progress = new InlineProgress<DownloadTask>(job.Report);
            while (true)
            {
                var result = await downloads.WaitAsync(taskId, progress, ct).ConfigureAwait(false);
                if (result.Status != DownloadStatus.Paused || !await job.WaitWhileSuspendedAsync(ct).ConfigureAwait(false))
                {
                    return result;
                }
            }
        })
        {
            TaskId = taskId,
            CancelDownload = () => downloads.CancelAsync(taskId).GetAwaiter().GetResult(),
            PauseDownload = () => downloads.SuspendAsync(taskId).GetAwaiter().GetResult(),
            ResumeDownload = () => (model is null ? Service.ResumeDownloadAsync(taskId, CancellationToken.None) : downloads.ResumeAsync(taskId, model)).GetAwaiter().GetResult(),
        };
        job.Register(this);
        job.StartJob();
        return job;
    }

    /// <summary>Reports on the calling thread; the engine's reports must not queue behind a synchronization context.</summary>
    sealed class InlineProgress<T> : IProgress<T>
    {
        readonly Action<T> report;

        public InlineProgress(Action<T> report) => this.report = report;

        public void Report(T value) => report(value);
    }
}
