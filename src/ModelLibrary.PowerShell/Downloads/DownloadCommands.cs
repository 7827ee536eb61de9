using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Downloads;

/// <summary>
/// Downloads models: in the foreground with a progress bar each (Ctrl+C pauses; Resume-ModelDownload continues),
/// or with -AsJob as background jobs. Takes catalog ids, references (hf.co/..., as the contract's Version 2 writes
/// them) and, with -Uri, any https URL. Writes the finished DownloadTask (or the job).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "ModelDownload", SupportsShouldProcess = true, DefaultParameterSetName = IdSet)]
[OutputType(typeof(DownloadTask), typeof(ModelDownloadJob))]
public sealed class StartModelDownloadCommand : DownloadCmdlet
{
    const string IdSet = "Id";
    const string UriSet = "Uri";

    readonly List<string> started = new();

    /// <summary>Catalog ids or references (hf.co/&lt;owner&gt;/&lt;repo&gt;[:&lt;quant&gt;], .../&lt;file&gt;, @&lt;revision&gt;); with -Uri, the id to give the model.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, ParameterSetName = IdSet)]
    [Parameter(ParameterSetName = UriSet)]
    [Alias("ModelId")]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[] Id { get; set; } = Array.Empty<string>();

    /// <summary>One file from an https URL (http to this machine only); file:// and ftp:// are refused.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UriSet)]
    [Alias("Url")]
    public string Uri { get; set; } = "";

    /// <summary>With -Uri: the SHA-256 the file must have (sha256:&lt;hex&gt; or 64 hex digits).</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ValidatePattern("^(sha256:)?[0-9a-fA-F]{64}$")]
    public string? Checksum { get; set; }

    /// <summary>With -Uri: the provider whose folder the file goes to (default: llama-cpp for GGUF, else transformers).</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string? Provider { get; set; }

    /// <summary>Returns a job per model at once instead of waiting.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    /// <summary>Downloads a model that is already Local again.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Most bytes per second each download may take over all its connections (default: DOWNLOAD_MAX_BYTES_PER_SECOND).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxBytesPerSecond { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == UriSet)
        {
            if (Id.Length > 1)
            {
                // -Uri downloads one file, named by one id.
                WriteLibraryError(Errors.InvalidModelId(string.Join(", ", Id)));
                return;
            }

            var id = Id.FirstOrDefault();
            Guard(() => Started(Run(ct => Service.DownloadUrlAsync(Uri, id, Checksum, Provider, Force, Limit, ShouldStart, ct))), Uri);
            return;
        }

        foreach (var id in Id)
        {
            Guard(() => Started(Run(ct => Service.DownloadAsync(id, Force, Limit, ShouldStart, ct))), id);
        }
    }

    protected override void EndProcessing() => WaitInForeground(started, pauseOnStop: true);

    long? Limit => MaxBytesPerSecond > 0 ? MaxBytesPerSecond : null;

    /// <summary>Core's question before it starts a planned download, answered on the pipeline thread: -WhatIf, -Confirm.</summary>
    Task<bool> ShouldStart(Library.DownloadPlan plan) => OnPipelineThread(() =>
    {
        WriteWarnings(plan.Warnings);
        var model = plan.Model;
        if (!ShouldProcess(model.Id, plan.Description))
        {
            return false;
        }

        IReadOnlyList<ModelLibrary.RemoteModelFile> files = plan.Resolved?.Files ?? Array.Empty<ModelLibrary.RemoteModelFile>();
        WriteVerbose($"'{model.Id}' from source '{model.Source}': {(files.Count > 1 ? $"{files.Count} files from {files[0].Url.Host}" : model.DownloadUrl)} ({(model.Size is { } declared ? ByteSize.Format(declared) + " declared" : "size not declared")}"
            + $"{(model.Checksum is null ? "" : ", checked against " + model.Checksum)}){(model.Revision is null ? "" : " at revision " + model.Revision)}. Up to {Configuration.DownloadConnections} connection(s) per host, {Downloads.Options.MaxRetryAttempts} retries per request"
            + $"{(plan.Resolved?.AllowInsecureHttp == true ? "; plain http allowed (-AllowInsecureHttp)" : "")}.");
        return true;
    });

    /// <summary>
    /// What the one Core call did: nothing for a model already Local (said as a warning), nothing when declined, else a
    /// task (preflight failures came back as errors before any task or job existed).
    /// </summary>
    void Started(Library.DownloadStart start)
    {
        var plan = start.Plan;
        if (plan.AlreadyLocal)
        {
            WriteWarnings(plan.Warnings);
            WriteWarning($"'{plan.Model.Id}' is already local at '{plan.Model.LocalPath}'; use -Force to download it again.");
            return;
        }

        if (start.Task is not { } task)
        {
            return;
        }

        if (AsJob)
        {
            WriteObject(StartJob(task, plan.Model));
        }
        else if (!started.Contains(task.TaskId))
        {
            started.Add(task.TaskId);
        }
    }
}

/// <summary>Lists download tasks of this and other sessions, live where they run in this one.</summary>
[Cmdlet(VerbsCommon.Get, "ModelDownload")]
[OutputType(typeof(DownloadTask))]
public sealed class GetModelDownloadCommand : DownloadCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    public string[]? TaskId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[]? ModelId { get; set; }

    [Parameter]
    public DownloadStatus[]? Status { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        var tasks = Run(ct => Downloads.GetTasksAsync(null, ct)).Reverse().ToList();
        var models = (ModelId ?? Array.Empty<string>()).Select(m => new WildcardPattern(m, WildcardOptions.IgnoreCase)).ToList();
        WriteObject(tasks.Where(t =>
                (TaskId is null || TaskId.Contains(t.TaskId, StringComparer.OrdinalIgnoreCase)) &&
                (models.Count == 0 || models.Any(p => p.IsMatch(t.ModelId))) &&
                (Status is null || Status.Contains(t.Status))),
            enumerateCollection: true);
        foreach (var id in TaskId ?? Array.Empty<string>())
        {
            if (!tasks.Any(t => string.Equals(t.TaskId, id, StringComparison.OrdinalIgnoreCase)))
            {
                WriteLibraryError(Errors.DownloadTaskNotFound(id));
            }
        }
    });
}

/// <summary>The cmdlets that act on existing tasks: by -TaskId, by -ModelId (its unfinished tasks), or piped tasks.</summary>
public abstract class TaskControlCmdlet : DownloadCmdlet
{
    const string ByTask = "ByTask";
    const string ByModel = "ByModel";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ByTask)]
    public string[] TaskId { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = ByModel)]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[] ModelId { get; set; } = Array.Empty<string>();

    /// <summary>The task ids this call names; a model with no unfinished task is an error.</summary>
    protected IEnumerable<string> SelectedTaskIds()
    {
        if (ParameterSetName == ByTask)
        {
            foreach (var id in TaskId)
            {
                yield return id;
            }

            yield break;
        }

        foreach (var model in ModelId)
        {
            var open = Run(ct => Downloads.GetTasksAsync(model, ct)).Where(t => !t.IsFinished).Select(t => t.TaskId).ToList();
            if (open.Count == 0)
            {
                WriteLibraryError(Errors.DownloadTaskNotFound(taskId: null, modelId: model));
            }

            foreach (var id in open)
            {
                yield return id;
            }
        }
    }
}

/// <summary>Cancels downloads: the transfer stops, the partial file and its state are deleted, the model is Available again.</summary>
[Cmdlet(VerbsLifecycle.Stop, "ModelDownload", SupportsShouldProcess = true, DefaultParameterSetName = "ByTask")]
[OutputType(typeof(DownloadTask))]
public sealed class StopModelDownloadCommand : TaskControlCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in SelectedTaskIds())
        {
            Guard(() =>
            {
                if (ShouldProcess(id, "Cancel the download and delete its partial file"))
                {
                    var task = Run(ct => Downloads.CancelAsync(id, ct));
                    if (PassThru)
                    {
                        WriteObject(task);
                    }
                }
            }, id);
        }
    }
}

/// <summary>Pauses downloads; the bytes and resume state stay for Resume-ModelDownload, in this or a later session.</summary>
[Cmdlet(VerbsLifecycle.Suspend, "ModelDownload", SupportsShouldProcess = true, DefaultParameterSetName = "ByTask")]
[OutputType(typeof(DownloadTask))]
public sealed class SuspendModelDownloadCommand : TaskControlCmdlet
{
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in SelectedTaskIds())
        {
            Guard(() =>
            {
                if (ShouldProcess(id, "Pause the download"))
                {
                    var task = Run(ct => Downloads.SuspendAsync(id, ct));
                    if (PassThru)
                    {
                        WriteObject(task);
                    }
                }
            }, id);
        }
    }
}

/// <summary>
/// Continues paused, failed or interrupted downloads from the bytes on disk (also those of a session that died),
/// in the foreground with progress or with -AsJob.
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "ModelDownload", SupportsShouldProcess = true, DefaultParameterSetName = "ByTask")]
[OutputType(typeof(DownloadTask), typeof(ModelDownloadJob))]
public sealed class ResumeModelDownloadCommand : TaskControlCmdlet
{
    readonly List<string> resumed = new();

    [Parameter]
    public SwitchParameter AsJob { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in SelectedTaskIds())
        {
            Guard(() =>
            {
                var stored = Run(ct => Downloads.GetTaskAsync(id, ct));
                if (!ShouldProcess(id, $"Resume the download of '{stored.ModelId}'"))
                {
                    return;
                }

                var task = Run(ct => Service.ResumeDownloadAsync(id, ct));
                if (AsJob)
                {
                    WriteObject(StartJob(task, null));
                }
                else if (!resumed.Contains(task.TaskId))
                {
                    resumed.Add(task.TaskId);
                }
            }, id);
        }
    }

    protected override void EndProcessing() => WaitInForeground(resumed, pauseOnStop: true);
}

/// <summary>Waits for downloads (of this or another session) to finish, with progress; writes each task.</summary>
[Cmdlet(VerbsLifecycle.Wait, "ModelDownload", DefaultParameterSetName = "ByTask")]
[OutputType(typeof(DownloadTask))]
public sealed class WaitModelDownloadCommand : TaskControlCmdlet
{
    readonly List<string> waiting = new();

    /// <summary>Seconds to wait at most; the downloads go on after it.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Timeout { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in SelectedTaskIds())
        {
            Guard(() =>
            {
                // Fails now for an unknown id, rather than after the others finished.
                Run(ct => Downloads.GetTaskAsync(id, ct));
                if (!waiting.Contains(id))
                {
                    waiting.Add(id);
                }
            }, id);
        }
    }

    protected override void EndProcessing() => WaitInForeground(waiting, pauseOnStop: false, Timeout is { } t ? TimeSpan.FromSeconds(t) : null);
}
