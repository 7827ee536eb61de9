using System.Management.Automation;
using ModelLibrary.Downloads;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Downloads;

/// <summary>What the download cmdlets share: waiting on tasks with progress bars, and making jobs of them.</summary>
public abstract class DownloadCmdlet : ModelLibraryCmdlet, IDisposable
{
    readonly System.Collections.Concurrent.ConcurrentQueue<DownloadMessage> messages = new();
    DownloadManager? listeningTo;

    protected static DownloadManager Downloads => Service.Downloads;

    /// <summary>
    /// Collects what the engine says (source, URL masked, connections, retries and waits) from the start, so that
    /// nothing said before the waiting begins is lost; written with -Verbose for the tasks this call waits on.
    /// </summary>
    protected override void BeginProcessing()
    {
        base.BeginProcessing();
        if (MyInvocation.BoundParameters.ContainsKey("Verbose") || !Equals(GetVariableValue("VerbosePreference"), ActionPreference.SilentlyContinue))
        {
            try
            {
                listeningTo = Downloads;
                listeningTo.Message += OnMessage;
            }
            catch (ModelLibraryException)
            {
                // A broken configuration shows in the cmdlet's own work.
                listeningTo = null;
            }
        }
    }

    void OnMessage(object? sender, DownloadMessage message) => messages.Enqueue(message);

    /// <summary>Writes the engine's messages about <paramref name="taskIds"/> (pipeline thread only).</summary>
    void WriteMessages(IReadOnlyCollection<string> taskIds)
    {
        var others = new List<DownloadMessage>();
        while (messages.TryDequeue(out var message))
        {
            if (taskIds.Contains(message.TaskId))
            {
                WriteVerbose($"[{message.ModelId}] {message.Text}");
            }
            else
            {
                others.Add(message);
            }
        }

        foreach (var other in others)
        {
            messages.Enqueue(other);
        }
    }

    public void Dispose()
    {
        if (listeningTo is not null)
        {
            listeningTo.Message -= OnMessage;
            listeningTo = null;
        }
    }

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
            // Ctrl+C: keep the bytes, free the slots. Nothing may go down the pipeline now (it is stopping), so what
            // happened and how to go on is told on the host, as PowerShell tells of the stop itself.
            foreach (var id in taskIds.Where(id => !finished.Contains(id)))
            {
                try
                {
                    var paused = Downloads.SuspendAsync(id).GetAwaiter().GetResult();
                    TellHost(PausedNotice(paused));
                }
                catch (ModelLibraryException)
                {
                }
            }

            throw;
        }
    }

    /// <summary>What Ctrl+C did to a foreground download, and the command that continues it.</summary>
    internal static string PausedNotice(DownloadTask task) => task.Status == DownloadStatus.Paused
        ? $"The download of '{task.ModelId}' is paused at {task.Progress:P0} ({task.DownloadedSize} of {task.TotalSize} bytes); its bytes are kept. Resume it with: Resume-ModelDownload -TaskId {task.TaskId}"
        : $"The download of '{task.ModelId}' is {task.Status} (task {task.TaskId}).";

    void TellHost(string message)
    {
        try
        {
            Host.UI.WriteWarningLine(message);
        }
        catch (Exception e) when (e is PipelineStoppedException or InvalidOperationException or NotImplementedException)
        {
            Console.Error.WriteLine("WARNING: " + message);
        }
    }

    async Task WaitOneAsync(string taskId, HashSet<string> finished, CancellationToken ct)
    {
        var ids = new[] { taskId };
        var progress = new InlineProgress<DownloadTask>(t => Post(() =>
        {
            WriteMessages(ids);
            WriteProgress(DownloadProgress.Record(t));
        }));
        try
        {
            var task = await Downloads.WaitAsync(taskId, progress, ct).ConfigureAwait(false);
            lock (finished)
            {
                finished.Add(taskId);
            }

            Post(() =>
            {
                WriteMessages(ids);
                WriteProgress(DownloadProgress.Record(task));
                WriteObject(task);
            });
        }
        catch (Exception e) when (e is ModelLibraryException || (IsUnexpected(e) && !(e is OperationCanceledException && ct.IsCancellationRequested)))
        {
            lock (finished)
            {
                finished.Add(taskId);
            }

            var error = e as ModelLibraryException ?? Errors.UnexpectedError(e, taskId);
            // The bar goes (and a CI log's group for the download closes) before the error is told.
            Post(() =>
            {
                WriteMessages(ids);
                WriteProgress(DownloadProgress.Failed(taskId));
                WriteLibraryError(error, taskId);
            });
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
            // What the engine says about this task (retries, waits, connections) goes to the job's verbose stream.
            EventHandler<DownloadMessage> verbose = (_, m) =>
            {
                if (m.TaskId == taskId)
                {
                    job.Verbose.Add(new VerboseRecord($"[{m.ModelId}] {m.Text}"));
                }
            };
            downloads.Message += verbose;
            try
            {
                while (true)
                {
                    var result = await downloads.WaitAsync(taskId, progress, ct).ConfigureAwait(false);
                    if (result.Status != DownloadStatus.Paused || !await job.WaitWhileSuspendedAsync(ct).ConfigureAwait(false))
                    {
                        return result;
                    }
                }
            }
            finally
            {
                downloads.Message -= verbose;
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
