using System.Diagnostics;
using System.Net;
using ModelLibrary.Configuration;
using Polly;

namespace ModelLibrary.Downloads;

/// <summary>
/// The download engine's entry point: starts, shares, pauses, resumes, cancels and waits for model downloads.
/// Keep one per process (the PowerShell module holds one): it owns the HTTP connection pool and the slots
/// that bound concurrent transfers (<c>MaxConcurrentDownloads</c>).
/// </summary>
/// <remarks>
/// <para>Sharing: a second start of a model already downloading in this manager returns the same task. A model
/// being downloaded by another process (or another manager) is refused with ErrorId <c>DownloadInProgress</c>
/// rather than waited for: an exclusive lock file in <c>downloads/</c> guards each model's partial file, and a
/// refusal at once is clearer than a prompt that hangs; <see cref="WaitAsync"/> by task id follows the other
/// process's task through the store.</para>
/// <para>Errors: checks that need no network (insecure source, path containment, the catalog's declared size
/// against free space, the lock) throw from <see cref="StartAsync(DownloadRequest, CancellationToken)"/> and
/// create no task. Everything later fails the task (status Failed, ErrorId and ErrorMessage set) and
/// <see cref="WaitAsync"/> throws the typed exception.</para>
/// <para>Timeout: <c>DownloadTimeout</c> bounds each run from the moment it gets a slot (time waiting as Pending
/// does not count).</para>
/// <para>Parts: <see cref="TaskLifecycle"/> owns every status change of a task (with <see cref="TaskTransitions"/>);
/// <see cref="CrossProcessControl"/> handles tasks this process does not run; <see cref="DownloadRun"/> moves the
/// bytes. This class keeps the tasks running here and routes each call to those parts.</para>
/// </remarks>
public sealed class DownloadManager : IAsyncDisposable
{
    readonly object sync = new();
    readonly Dictionary<string, ActiveDownload> byModel = new(StringComparer.Ordinal);
    readonly Dictionary<string, ActiveDownload> byTask = new(StringComparer.Ordinal);
    // Failures of tasks this manager ran, kept after they leave byTask: a wait that starts after the task failed (a
    // quick refusal: a redirect loop, a gated file) still throws the exception itself, with its own resolution steps,
    // not one rebuilt from the row. Bounded: the oldest are dropped.
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, ModelLibraryException> recentFailures = new(StringComparer.Ordinal);
    const int RecentFailuresKept = 64;
    readonly SemaphoreSlim startLock = new(1, 1);
    readonly bool ownGate;
    LibraryConfiguration configuration;
    volatile bool disposed;

    public DownloadManager(LibraryConfiguration configuration, IDownloadTaskStore tasks, IModelStateSink models, DownloadOptions? options = null)
    {
        this.configuration = configuration ?? throw new ArgumentNullException(nameof(configuration));
        Tasks = tasks ?? throw new ArgumentNullException(nameof(tasks));
        Models = models ?? throw new ArgumentNullException(nameof(models));
        Options = options ?? new DownloadOptions();
        ownGate = Options.Gate is null;
        Gate = Options.Gate ?? new ConcurrencyGate(configuration.MaxConcurrentDownloads);
        Http = Net.HttpClients.Create(Options.Proxy);
        Pipeline = RetryPipeline.Create(Options);
        Lifecycle = new TaskLifecycle(Tasks, Models, Publish, Report);
        Foreign = new CrossProcessControl(() => this.configuration, Tasks, Lifecycle, Options);
    }

    /// <summary>Raised with a copy of a task when its status changes and a few times a second while it transfers.</summary>
    public event EventHandler<DownloadTask>? TaskChanged;

    /// <summary>
    /// What the engine does and why, for -Verbose: the source and URL (masked), the server's answer, connections,
    /// each retry with what failed and the wait, restarts.
    /// </summary>
    public event EventHandler<DownloadMessage>? Message;

    public LibraryConfiguration Configuration => configuration;
    public DownloadOptions Options { get; }
    public ConcurrencyGate Gate { get; }
    internal IDownloadTaskStore Tasks { get; }
    internal IModelStateSink Models { get; }
    internal HttpClient Http { get; }
    internal ResiliencePipeline Pipeline { get; }
    internal TaskLifecycle Lifecycle { get; }
    internal CrossProcessControl Foreign { get; }

    /// <summary>
    /// Applies a changed configuration (Set-ModelLibraryConfiguration): new downloads use it; the number of slots
    /// changes at once, for waiting downloads too.
    /// </summary>
    public void Reconfigure(LibraryConfiguration newConfiguration)
    {
        configuration = newConfiguration ?? throw new ArgumentNullException(nameof(newConfiguration));
        if (ownGate)
        {
            Gate.Limit = newConfiguration.MaxConcurrentDownloads;
        }
    }

    /// <summary>The proxy requests to <paramref name="url"/> go through (null: direct), as the engine resolves it.</summary>
    public Uri? ResolveProxy(Uri url) => DownloadHttp.ProxyFor(Options.Proxy, url);

    /// <inheritdoc cref="StartAsync(DownloadRequest, CancellationToken)"/>
    public Task<DownloadTask> StartAsync(ModelInfo model, bool allowInsecureHttp = false, CancellationToken cancellationToken = default) =>
        StartCoreAsync(DownloadRequest.FromModel(model, allowInsecureHttp), model, null, cancellationToken);

    /// <summary>As <see cref="StartAsync(ModelInfo, bool, CancellationToken)"/>, held to <paramref name="maxBytesPerSecond"/> (null or 0: the configured limit).</summary>
    public Task<DownloadTask> StartAsync(ModelInfo model, bool allowInsecureHttp, long? maxBytesPerSecond, CancellationToken cancellationToken = default) =>
        StartCoreAsync(DownloadRequest.FromModel(model, allowInsecureHttp) with { MaxBytesPerSecond = maxBytesPerSecond is > 0 ? maxBytesPerSecond : null }, model, null, cancellationToken);

    /// <summary>
    /// Starts (or joins) the download of a model and returns its task at once, Pending until a slot is free.
    /// An unfinished task of the model (paused, or left behind by a process that died) is continued under its
    /// own task id, from the bytes on disk.
    /// </summary>
    /// <exception cref="ModelSecurityException">InsecureSource, or UnsafeModelContent for a file name leaving its folder.</exception>
    /// <exception cref="DiskSpaceException">The declared size does not fit.</exception>
    /// <exception cref="ModelLibraryException">DownloadInProgress: another process is downloading this model.</exception>
    public Task<DownloadTask> StartAsync(DownloadRequest request, CancellationToken cancellationToken = default) =>
        StartCoreAsync(request, null, null, cancellationToken);

    /// <summary>Starts (or joins) the download of what a source resolved, with the model the library lists for it.</summary>
    public Task<DownloadTask> StartAsync(DownloadRequest request, ModelInfo model, CancellationToken cancellationToken = default) =>
        StartCoreAsync(request, model, null, cancellationToken);

    /// <summary>Starts and waits, reporting progress. Cancelling <paramref name="cancellationToken"/> pauses the download (so it can be resumed) and throws.</summary>
    public async Task<DownloadTask> DownloadAsync(ModelInfo model, IProgress<DownloadTask>? progress = null, bool allowInsecureHttp = false, CancellationToken cancellationToken = default)
    {
        var task = await StartAsync(model, allowInsecureHttp, cancellationToken);
        try
        {
            return await WaitAsync(task.TaskId, progress, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await SuspendAsync(task.TaskId, CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// Waits until the task is no longer Pending, Downloading or Verifying and returns it (Completed, Paused or
    /// Cancelled); throws the failure's typed exception when it Failed. A task another process runs is followed
    /// through the store. Cancelling only stops the waiting.
    /// </summary>
    public async Task<DownloadTask> WaitAsync(string taskId, IProgress<DownloadTask>? progress = null, CancellationToken cancellationToken = default)
    {
        if (Find(taskId) is { } active)
        {
            EventHandler<DownloadTask>? forward = progress is null ? null : (_, t) =>
            {
                if (t.TaskId == taskId)
                {
                    progress.Report(t);
                }
            };
            TaskChanged += forward;
            try
            {
                await active.Completion.WaitAsync(cancellationToken);
            }
            finally
            {
                TaskChanged -= forward;
            }

            var final = active.Snapshot();
            if (final.Status == DownloadStatus.Failed && active.Failure is { } failure)
            {
                throw failure;
            }

            return final;
        }

        // Another process runs it (or ran it and died: then it is settled Paused, its bytes waiting for Resume).
        var settled = await Foreign.FollowAsync(taskId, progress, RunsHere, cancellationToken);
        if (settled is null)
        {
            return await WaitAsync(taskId, progress, cancellationToken);
        }

        return settled.Status == DownloadStatus.Failed
            ? throw (recentFailures.TryGetValue(taskId, out var kept) ? kept : FailureFromRow(settled))
            : settled;
    }

    /// <summary>Pauses: the transfer stops, the bytes and resume state stay, the task becomes Paused.</summary>
    public async Task<DownloadTask> SuspendAsync(string taskId, CancellationToken cancellationToken = default)
    {
        if (Find(taskId) is { } active)
        {
            active.RequestStop(StopReason.Pause);
            await active.Completion.WaitAsync(cancellationToken);
            return active.Snapshot();
        }

        var row = await GetStoredAsync(taskId, cancellationToken);
        return row.Status switch
        {
            DownloadStatus.Paused => row,
            DownloadStatus.Pending or DownloadStatus.Downloading or DownloadStatus.Verifying =>
                await Foreign.PauseIfOrphanedAsync(row, cancellationToken) ?? await Foreign.AskOwnerAsync(row, StopReason.Pause, cancellationToken),
            _ => throw InvalidState(row, "suspended"),
        };
    }

    /// <summary>
    /// Continues a Paused or Failed task (or one whose process died) from the bytes on disk, under the same task
    /// id. What to download comes from <paramref name="model"/> or else from the resume state beside the partial.
    /// </summary>
    public async Task<DownloadTask> ResumeAsync(string taskId, ModelInfo? model = null, CancellationToken cancellationToken = default)
    {
        if (Find(taskId) is { } active)
        {
            return active.Snapshot();
        }

        var row = await GetStoredAsync(taskId, cancellationToken);
        if (row.Status is DownloadStatus.Completed or DownloadStatus.Cancelled)
        {
            throw InvalidState(row, "resumed; start a new download with Start-ModelDownload");
        }

        var saved = ResumeState.Load(DownloadPaths.StagingFor(configuration, row.ModelId).State)?.Request;
        if (model is null && saved is not null && Net.SafeUrl.IsMasked(saved.Url))
        {
            // The state file never holds a password; only the source that lists the model has it.
            throw Errors.CredentialsNotSaved(row, Net.SafeUrl.Masked(saved.Url));
        }

        // A folder model's files (and a reference's pinned URL) are in the saved request; a catalog model is rebuilt
        // from its entry, which may have moved to a new URL since.
        var request = saved is { IsFolder: true } || (saved is not null && model?.Revision is not null && !Net.SafeUrl.IsMasked(saved.Url)) ? saved
            : model is not null
            ? DownloadRequest.FromModel(model, saved?.AllowInsecureHttp ?? false) with { MaxBytesPerSecond = saved?.MaxBytesPerSecond }
            : saved ?? throw Errors.NoSavedDownloadState(row);
        return await StartCoreAsync(request, model, row, cancellationToken);
    }

    /// <summary>Cancels: the transfer stops, the partial file and its state are deleted, the model is Available again.</summary>
    public async Task<DownloadTask> CancelAsync(string taskId, CancellationToken cancellationToken = default)
    {
        if (Find(taskId) is { } active)
        {
            active.RequestStop(StopReason.Cancel);
            await active.Completion.WaitAsync(cancellationToken);
            var final = active.Snapshot();
            if (final.Status != DownloadStatus.Paused)
            {
                return final;
            }
        }

        var row = await GetStoredAsync(taskId, cancellationToken);
        if (row.Status == DownloadStatus.Cancelled)
        {
            return row;
        }

        if (row.Status == DownloadStatus.Completed)
        {
            throw InvalidState(row, "cancelled");
        }

        return await Foreign.TryCancelUnownedAsync(row) ?? await Foreign.AskOwnerAsync(row, StopReason.Cancel, cancellationToken);
    }

    /// <summary>The task as it is now: live when it runs here, else from the store (an orphan settled as Paused).</summary>
    public async Task<DownloadTask> GetTaskAsync(string taskId, CancellationToken cancellationToken = default)
    {
        if (Find(taskId)?.Snapshot() is { } live)
        {
            return live;
        }

        var row = await GetStoredAsync(taskId, cancellationToken);
        return (await Foreign.SettleOrphansAsync(new[] { row }, RunsHere, cancellationToken))[0];
    }

    /// <summary>
    /// All tasks (of one model), newest first, live ones as they are now. A task whose process died reads as Paused
    /// (and is recorded so), so every session agrees and <c>-Status Paused | Resume-ModelDownload</c> finds it.
    /// </summary>
    public async Task<IReadOnlyList<DownloadTask>> GetTasksAsync(string? modelId = null, CancellationToken cancellationToken = default)
    {
        var stored = await Tasks.ListAsync(modelId, cancellationToken);
        var settled = await Foreign.SettleOrphansAsync(stored, RunsHere, cancellationToken);
        return settled.Select(t => Find(t.TaskId)?.Snapshot() ?? t).ToList();
    }

    /// <summary>
    /// Settles the tasks among <paramref name="rows"/> whose process died (Paused), as <see cref="GetTasksAsync"/>
    /// does; the library's listing uses it so that a model of such a task is not shown Downloading.
    /// </summary>
    public Task<IReadOnlyList<DownloadTask>> SettleOrphansAsync(IReadOnlyList<DownloadTask> rows, CancellationToken cancellationToken = default) =>
        Foreign.SettleOrphansAsync(rows, RunsHere, cancellationToken);

    /// <summary>Pauses every running download (their tasks become Paused, resumable by any later session).</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        await StopAllAsync(StopReason.Pause);
        Http.Dispose();
    }

    /// <summary>Tests: stops everything as if the process had been killed (no final writes, locks released).</summary>
    internal Task SimulateCrashAsync() => StopAllAsync(StopReason.Abandon);

    async Task StopAllAsync(StopReason reason)
    {
        ActiveDownload[] running;
        lock (sync)
        {
            running = byTask.Values.ToArray();
        }

        foreach (var active in running)
        {
            active.RequestStop(reason);
        }

        await Task.WhenAll(running.Select(a => a.Completion));
    }

    async Task<DownloadTask> StartCoreAsync(DownloadRequest request, ModelInfo? model, DownloadTask? resumeRow, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Preflight.CheckSource(request.Url, request.AllowInsecureHttp, request.ModelId);
        var paths = DownloadPaths.For(configuration, request);

        await startLock.WaitAsync(cancellationToken);
        try
        {
            lock (sync)
            {
                if (byModel.TryGetValue(request.ModelId, out var running))
                {
                    return running.Snapshot();
                }
            }

            var fileLock = DownloadLock.TryAcquire(paths.Lock) ?? throw InProgress(request.ModelId, "another process is downloading it");
            try
            {
                if (request.DeclaredSize is { } declared)
                {
                    var onDisk = ResumeState.Load(paths.State)?.DownloadedBytes ?? 0;
                    Preflight.CheckDiskSpace(request.ModelId, paths, declared, onDisk, Options);
                }

                var row = resumeRow ?? await FindUnfinishedAsync(request.ModelId, cancellationToken);
                var isNew = row is null;
                row ??= new DownloadTask
                {
                    TaskId = Guid.NewGuid().ToString("N"),
                    ModelId = request.ModelId,
                    TotalSize = request.DeclaredSize ?? 0,
                };
                var described = model ?? request.ToModelInfo();
                await Lifecycle.ToPendingAsync(row, isNew, request, paths, described, cancellationToken);
                var active = new ActiveDownload(row, request, described, paths, fileLock);
                lock (sync)
                {
                    byModel[request.ModelId] = active;
                    byTask[row.TaskId] = active;
                }

                active.Completion = Task.Run(() => RunAsync(active));
                Lifecycle.Publish(active);
                return active.Snapshot();
            }
            catch
            {
                fileLock.Dispose();
                throw;
            }
        }
        finally
        {
            startLock.Release();
        }
    }

    /// <summary>Waits for a slot, runs the download, and settles the task whatever happened.</summary>
    async Task RunAsync(ActiveDownload active)
    {
        try
        {
            LocalModelFile file;
            using (await EnterGateAsync(active))
            {
                await Lifecycle.ToDownloadingAsync(active);

                var limit = Options.Timeout ?? TimeSpan.FromSeconds(configuration.DownloadTimeout);
                using var timeout = new CancellationTokenSource(limit);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(active.StopToken, timeout.Token);
                try
                {
                    var run = new DownloadRun(active, Http, Options, configuration, Lifecycle);
                    file = await run.ExecuteAsync(linked.Token);
                }
                catch (Exception e) when (timeout.IsCancellationRequested && active.StopReason == StopReason.None && e is OperationCanceledException or IOException)
                {
                    throw Errors.NetworkFailure($"Downloading '{active.ModelId}' timed out after {limit.TotalSeconds:0} seconds (DownloadTimeout).",
                        target: active.ModelId, inner: e,
                        details: new Dictionary<string, object?> { ["model_id"] = active.ModelId, ["timeout_seconds"] = limit.TotalSeconds });
                }
            }

            await Lifecycle.ToCompletedAsync(active, file);
        }
        catch (Exception) when (active.StopReason is StopReason.Pause)
        {
            await Lifecycle.ToPausedAsync(active);
        }
        catch (Exception) when (active.StopReason is StopReason.Cancel)
        {
            await Lifecycle.ToCancelledAsync(active);
        }
        catch (Exception) when (active.StopReason is StopReason.Abandon)
        {
            // As a killed process: nothing more is written; the next session finds the task orphaned.
        }
        catch (Exception e)
        {
            var failure = e as ModelLibraryException ?? Errors.DownloadFailed(active.ModelId, e, Net.SafeUrl.MaskText(e.Message));
            await Lifecycle.ToFailedAsync(active, failure);
        }
        finally
        {
            if (active.StopReason != StopReason.Abandon)
            {
                await Lifecycle.PersistAsync(active);
            }

            lock (sync)
            {
                byModel.Remove(active.ModelId);
                byTask.Remove(active.TaskId);
                if (active.Failure is { } failed)
                {
                    if (recentFailures.Count >= RecentFailuresKept)
                    {
                        recentFailures.Clear();
                    }

                    recentFailures[active.TaskId] = failed;
                }
            }

            active.Lock.Dispose();
            Lifecycle.Publish(active);
        }
    }

    /// <summary>Raises <see cref="TaskChanged"/> with a copy of the task for each watcher.</summary>
    void Publish(DownloadTask snapshot)
    {
        if (TaskChanged is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<DownloadTask>>())
        {
            try
            {
                handler(this, snapshot.Clone());
            }
            catch (Exception e)
            {
                // A watcher's bug must not break the download.
                Trace.TraceWarning($"ModelLibrary: a TaskChanged handler failed: {e}");
            }
        }
    }

    bool RunsHere(string taskId) => Find(taskId) is not null;

    /// <summary>Tells <see cref="Message"/> watchers what the engine does for this task (see -Verbose).</summary>
    internal void Report(ActiveDownload active, string text)
    {
        if (Message is not { } handlers)
        {
            return;
        }

        var message = new DownloadMessage(active.TaskId, active.ModelId, Net.SafeUrl.MaskText(text)!);
        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<DownloadMessage>>())
        {
            try
            {
                handler(this, message);
            }
            catch (Exception e)
            {
                Trace.TraceWarning($"ModelLibrary: a Message handler failed: {e}");
            }
        }
    }

    ActiveDownload? Find(string taskId)
    {
        lock (sync)
        {
            return byTask.GetValueOrDefault(taskId);
        }
    }

    async Task<DownloadTask> GetStoredAsync(string taskId, CancellationToken cancellationToken) =>
        await Tasks.GetAsync(taskId, cancellationToken) ?? throw Errors.DownloadTaskNotFound(taskId);

    async Task<DownloadTask?> FindUnfinishedAsync(string modelId, CancellationToken cancellationToken) =>
        (await Tasks.ListAsync(modelId, cancellationToken))
        .FirstOrDefault(t => t.Status is DownloadStatus.Pending or DownloadStatus.Downloading or DownloadStatus.Verifying or DownloadStatus.Paused);

    /// <summary>
    /// Waits for a slot. Meanwhile, as the progress ticker does once bytes flow, it takes stop requests that other
    /// processes leave beside the partial, so a download still Pending here can be paused or cancelled from another
    /// session too (the asker would otherwise wait in vain for a tick that only a running transfer has).
    /// </summary>
    async Task<IDisposable> EnterGateAsync(ActiveDownload active)
    {
        var enter = Gate.EnterAsync(active.StopToken);
        if (!enter.IsCompleted)
        {
            Report(active, $"Waiting for a download slot: {Gate.Limit} download(s) at once (MaxConcurrentDownloads).");
        }

        // The delay takes no token: a stop cancels 'enter' itself, which ends the loop, and the slot, if it was
        // granted at that same moment, still comes back through 'await enter' to be released by the caller.
        while (await Task.WhenAny(enter, Task.Delay(Options.PersistInterval, CancellationToken.None)) != enter)
        {
            active.TakeStopRequest();
        }

        return await enter;
    }

    internal static ModelLibraryException InProgress(string modelId, string why) => Errors.DownloadInProgress(modelId, why);

    static ModelLibraryException InvalidState(DownloadTask row, string action) => Errors.InvalidDownloadState(row, action);

    /// <summary>The failure of a task that ran elsewhere, rebuilt from its row (the original exception is in the other process).</summary>
    static ModelLibraryException FailureFromRow(DownloadTask row) => Errors.FromTaskRow(row);
}

/// <summary>One line of what the engine did for a task, as -Verbose shows it.</summary>
public sealed record DownloadMessage(string TaskId, string ModelId, string Text);
