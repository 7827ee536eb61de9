using System.Collections.Concurrent;
using System.ComponentModel;
using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Downloads;

/// <summary>
/// A background download as a PowerShell job: <c>Get-Job</c>, <c>Wait-Job</c>, <c>Receive-Job</c> (yields the
/// <see cref="DownloadTask"/>), <c>Stop-Job</c> (cancels the download) and <c>Remove-Job</c> all work on it; the
/// job's <c>SuspendJob()</c>/<c>ResumeJob()</c> methods pause and resume it in place (PowerShell 7 has no
/// Suspend-Job cmdlet; Suspend-ModelDownload and Resume-ModelDownload do the same by task). It runs in this process on the thread pool; the
/// download itself lives in the engine, so the job is only a view with controls.
/// </summary>
public sealed class ModelDownloadJob : Job2
{
    public const string JobTypeName = "ModelDownloadJob";

    readonly Func<ModelDownloadJob, CancellationToken, Task<DownloadTask>> work;
    readonly CancellationTokenSource cancellation = new();
    readonly object resumeGate = new();
    TaskCompletionSource<bool>? resumed;
    int lastPercent = -1;

    public ModelDownloadJob(string command, string name, string modelId, Func<ModelDownloadJob, CancellationToken, Task<DownloadTask>> work)
        : base(command, name)
    {
        this.work = work;
        ModelId = modelId;
        PSJobTypeName = JobTypeName;
        // Receive-Job must never block on a stream of a job that is still running.
        Output.EnumeratorNeverBlocks = true;
        Error.EnumeratorNeverBlocks = true;
        Progress.EnumeratorNeverBlocks = true;
        Verbose.EnumeratorNeverBlocks = true;
        Warning.EnumeratorNeverBlocks = true;
        Debug.EnumeratorNeverBlocks = true;
        Information.EnumeratorNeverBlocks = true;
    }

    public string ModelId { get; }

    /// <summary>The download task, once the engine has created it.</summary>
    public string? TaskId { get; internal set; }

    /// <summary>Cancels the download (Stop-Job); set by the cmdlet to the engine's cancel.</summary>
    internal Action? CancelDownload { get; set; }

    /// <summary>Pauses the download (the job's SuspendJob()).</summary>
    internal Action? PauseDownload { get; set; }

    /// <summary>Resumes a paused download (the job's ResumeJob()).</summary>
    internal Action? ResumeDownload { get; set; }

    public override string StatusMessage => TaskId is null ? ModelId : $"{ModelId} ({TaskId})";

    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Progress.Count > 0 || Verbose.Count > 0 || Warning.Count > 0;

    public override string Location => Environment.MachineName;

    public override void StartJob()
    {
        if (JobStateInfo.State != JobState.NotStarted)
        {
            throw new InvalidOperationException("The job has already started.");
        }

        SetJobState(JobState.Running);
        _ = Task.Run(RunAsync);
    }

    async Task RunAsync()
    {
        try
        {
            var result = await work(this, cancellation.Token).ConfigureAwait(false);
            Output.Add(PSObject.AsPSObject(result));
            // A download paused by Suspend-ModelDownload ends the job as Stopped; its task says Paused.
            SetJobState(result.Status switch
            {
                DownloadStatus.Completed => JobState.Completed,
                DownloadStatus.Cancelled or DownloadStatus.Paused => JobState.Stopped,
                _ => JobState.Failed,
            });
        }
        catch (ModelLibraryException e)
        {
            Error.Add(ErrorRecordFactory.Create(e));
            SetJobState(JobState.Failed);
        }
        catch (OperationCanceledException)
        {
            SetJobState(JobState.Stopped);
        }
        catch (Exception e)
        {
            Error.Add(new ErrorRecord(e, "DownloadJobFailed", ErrorCategory.NotSpecified, ModelId));
            SetJobState(JobState.Failed);
        }
        finally
        {
            Output.Complete();
            Error.Complete();
            Progress.Complete();
        }
    }

    /// <summary>Called by the engine's progress reports; adds a progress record when the percentage moves.</summary>
    internal void Report(DownloadTask task)
    {
        TaskId ??= task.TaskId;
        var percent = (int)Math.Clamp(task.Progress * 100, 0, 100);
        if (Interlocked.Exchange(ref lastPercent, percent) == percent)
        {
            return;
        }

        try
        {
            Progress.Add(DownloadProgress.Record(task));
        }
        catch (InvalidOperationException)
        {
            // The stream closed as the job finished; a late report is of no use.
        }
    }

    public override void StopJob() => StopJob(force: false, reason: null);

    public override void StopJob(bool force, string? reason)
    {
        if (IsFinishedState(JobStateInfo.State))
        {
            return;
        }

        SetJobState(JobState.Stopping);
        CancelDownload?.Invoke();
        cancellation.Cancel();
    }

    public override void StopJobAsync()
    {
        StopJob();
        OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, this));
    }

    public override void StopJobAsync(bool force, string reason)
    {
        StopJob(force, reason);
        OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, this));
    }

    public override void StartJobAsync()
    {
        StartJob();
        OnStartJobCompleted(new AsyncCompletedEventArgs(null, false, this));
    }

    public override void SuspendJob()
    {
        lock (resumeGate)
        {
            resumed ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        PauseDownload?.Invoke();
        SetJobState(JobState.Suspended);
    }

    /// <summary>
    /// After the download paused: true once ResumeJob() resumed it (go on waiting), false when the pause did not
    /// come from SuspendJob() (the job ends with the paused task).
    /// </summary>
    internal async Task<bool> WaitWhileSuspendedAsync(CancellationToken cancellationToken)
    {
        Task<bool>? wait;
        lock (resumeGate)
        {
            wait = resumed?.Task;
        }

        return wait is not null && await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void SuspendJob(bool force, string reason) => SuspendJob();

    public override void SuspendJobAsync()
    {
        SuspendJob();
        OnSuspendJobCompleted(new AsyncCompletedEventArgs(null, false, this));
    }

    public override void SuspendJobAsync(bool force, string reason) => SuspendJobAsync();

    public override void ResumeJob()
    {
        ResumeDownload?.Invoke();
        SetJobState(JobState.Running);
        lock (resumeGate)
        {
            resumed?.TrySetResult(true);
            resumed = null;
        }
    }

    public override void ResumeJobAsync()
    {
        ResumeJob();
        OnResumeJobCompleted(new AsyncCompletedEventArgs(null, false, this));
    }

    public override void UnblockJob() => throw new NotSupportedException("A download job never blocks.");

    public override void UnblockJobAsync() => throw new NotSupportedException("A download job never blocks.");

    /// <summary>Registers the job with the session's job manager through <see cref="ModelDownloadJobSourceAdapter"/>.</summary>
    internal void Register(PSCmdlet cmdlet)
    {
        var definition = new JobDefinition(typeof(ModelDownloadJobSourceAdapter), Command, Name);
        var parameters = new Dictionary<string, object> { [ModelDownloadJobSourceAdapter.NewJobParameter] = this };
        cmdlet.JobManager.NewJob(new JobInvocationInfo(definition, parameters));
    }

    static bool IsFinishedState(JobState state) => state is JobState.Completed or JobState.Failed or JobState.Stopped;

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            cancellation.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// Lets the session's job manager find download jobs (Get-Job, Remove-Job...). The job manager creates one adapter
/// per session; jobs are kept in a process-wide table so every adapter instance sees them.
/// </summary>
public sealed class ModelDownloadJobSourceAdapter : JobSourceAdapter
{
    internal const string NewJobParameter = "NewJob";

    static readonly ConcurrentDictionary<Guid, Job2> Jobs = new();

    public ModelDownloadJobSourceAdapter()
    {
        Name = nameof(ModelDownloadJobSourceAdapter);
    }

    public override Job2 NewJob(JobInvocationInfo specification)
    {
        var job = (Job2)specification.Parameters[0][0].Value;
        Jobs[job.InstanceId] = job;
        return job;
    }

    public override IList<Job2> GetJobs() => Jobs.Values.ToList();

    public override IList<Job2> GetJobsByName(string name, bool recurse)
    {
        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
        return Jobs.Values.Where(j => pattern.IsMatch(j.Name)).ToList();
    }

    public override IList<Job2> GetJobsByCommand(string command, bool recurse)
    {
        var pattern = new WildcardPattern(command, WildcardOptions.IgnoreCase);
        return Jobs.Values.Where(j => pattern.IsMatch(j.Command)).ToList();
    }

    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) => Jobs.TryGetValue(instanceId, out var job) ? job : null;

    public override Job2? GetJobBySessionId(int id, bool recurse) => Jobs.Values.FirstOrDefault(j => j.Id == id);

    public override IList<Job2> GetJobsByState(JobState state, bool recurse) => Jobs.Values.Where(j => j.JobStateInfo.State == state).ToList();

    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) => throw new PSNotSupportedException();

    public override void RemoveJob(Job2 job)
    {
        if (Jobs.TryRemove(job.InstanceId, out var removed))
        {
            removed.StopJob();
        }
    }
}
