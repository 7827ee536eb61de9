using System.Collections.Concurrent;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Reflection;
using ModelLibrary.Configuration;
using ModelLibrary.Library;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>
/// Base of every cmdlet: runs Core's async work on a worker thread while the pipeline thread pumps whatever the
/// work posts back (progress, warnings, output), since PowerShell only allows Write* calls on the pipeline thread.
/// Ctrl+C (StopProcessing) cancels the work. Every error, warning and progress record of the module passes through
/// here, which is where a CI system (Azure Pipelines, GitHub Actions) gets them as its own log lines too
/// (<see cref="PipelineLog"/>), and where a confirmation prompt that nobody could answer is refused rather than awaited.
/// </summary>
public abstract class ModelLibraryCmdlet : PSCmdlet
{
    readonly CancellationTokenSource stopping = new();
    BlockingCollection<Action>? pending;
    PipelineLog? pipelineLog;

    protected CancellationToken StopToken => stopping.Token;

    protected static LibraryConfiguration Configuration => ModelLibrarySession.Configuration;

    protected static ModelLibraryService Service => ModelLibrarySession.Service;

    protected override void StopProcessing() => stopping.Cancel();

    /// <summary>Runs async work to completion, pumping posted actions on the pipeline thread meanwhile.</summary>
    protected T Run<T>(Func<CancellationToken, Task<T>> work)
    {
        using var queue = new BlockingCollection<Action>();
        // Cancelled when the pump fails (e.g. -ErrorAction Stop turned a posted error into an exception), so the
        // work does not run on unobserved after the cmdlet has given up on it.
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(stopping.Token);
        var previous = pending;
        pending = queue;
        try
        {
            var task = Task.Run(async () =>
            {
                try
                {
                    return await work(abandon.Token).ConfigureAwait(false);
                }
                finally
                {
                    queue.CompleteAdding();
                }
            });
            try
            {
                foreach (var action in queue.GetConsumingEnumerable())
                {
                    action();
                }
            }
            catch
            {
                abandon.Cancel();
                try
                {
                    task.Wait();
                }
                catch (AggregateException)
                {
                    // The pump's exception is the one to report.
                }

                throw;
            }

            return task.GetAwaiter().GetResult();
        }
        finally
        {
            pending = previous;
        }
    }

    protected void Run(Func<CancellationToken, Task> work) => Run<object?>(async ct =>
    {
        await work(ct).ConfigureAwait(false);
        return null;
    });

    /// <summary>Queues an action for the pipeline thread; from the pipeline thread itself it runs at once.</summary>
    protected void Post(Action action)
    {
        var queue = pending;
        if (queue is null)
        {
            action();
            return;
        }

        try
        {
            queue.Add(action);
        }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
        {
            // The work finished (or was abandoned) in the meantime; a late report is not worth keeping.
        }
    }

    /// <summary>
    /// Runs <paramref name="question"/> on the pipeline thread (posted, while <see cref="Run{T}"/> pumps) and completes
    /// with its answer: how Core's callbacks ask the user something only the pipeline thread may ask (ShouldProcess).
    /// An exception (a terminating error, a stopped pipeline) reaches both the waiting work and the pump.
    /// </summary>
    protected Task<T> OnPipelineThread<T>(Func<T> question)
    {
        var answer = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                answer.TrySetResult(question());
            }
            catch (Exception e)
            {
                answer.TrySetException(e);
                throw;
            }
        });
        return answer.Task;
    }

    PipelineLog Pipeline => pipelineLog ??= new PipelineLog(PipelineLog.Detect());

    /// <summary>Writes the error, and its annotation in a CI log unless the caller silenced it.</summary>
    public new void WriteError(ErrorRecord errorRecord)
    {
        // Before the base call: with -ErrorAction Stop it throws.
        if (!Silenced("ErrorAction", "ErrorActionPreference"))
        {
            WritePipelineLines(Pipeline.Error(ErrorIdOf(errorRecord), MessageOf(errorRecord)));
        }

        base.WriteError(errorRecord);
    }

    public new void ThrowTerminatingError(ErrorRecord errorRecord)
    {
        WritePipelineLines(Pipeline.Error(ErrorIdOf(errorRecord), MessageOf(errorRecord)));
        base.ThrowTerminatingError(errorRecord);
    }

    public new void WriteWarning(string text)
    {
        if (!Silenced("WarningAction", "WarningPreference"))
        {
            WritePipelineLines(Pipeline.Warning(text));
        }

        base.WriteWarning(text);
    }

    public new void WriteProgress(ProgressRecord progressRecord)
    {
        if (!Silenced("ProgressAction", "ProgressPreference"))
        {
            WritePipelineLines(Pipeline.Progress(progressRecord));
        }

        base.WriteProgress(progressRecord);
    }

    /// <summary>
    /// ShouldProcess, except that a prompt nobody can answer (no console: a CI step, redirected input, -NonInteractive)
    /// is a ConfirmationRequired error at once instead of a wait; -Confirm:$false, -Force or -WhatIf go through as ever.
    /// </summary>
    public new bool ShouldProcess(string? target, string? action)
    {
        if (WouldPrompt() && !CanPrompt(Host))
        {
            var record = new ErrorRecord(
                new PSInvalidOperationException($"{MyInvocation.MyCommand.Name} would ask to confirm '{action}' on '{target}', but this run has no console to answer it."),
                HostErrorIds.ConfirmationRequired, ErrorCategory.InvalidOperation, target);
            record.ErrorDetails = new ErrorDetails(record.Exception.Message)
            {
                RecommendedAction = "Add -Confirm:$false (or -Force where the cmdlet has it) to run it unattended, or -WhatIf to see what it would do.",
            };
            ThrowTerminatingError(record);
        }

        return base.ShouldProcess(target, action);
    }

    /// <summary>Writes what the pipeline log made of a record; to the host, so it reaches the CI log and never the output.</summary>
    void WritePipelineLines(IReadOnlyList<string> lines)
    {
        if (lines.Count == 0 || Host?.UI is not { } ui)
        {
            return;
        }

        foreach (var line in lines)
        {
            ui.WriteLine(line);
        }
    }

    /// <summary>True when -XAction or $XPreference says SilentlyContinue or Ignore: then CI logs get nothing either.</summary>
    bool Silenced(string parameter, string preference)
    {
        var value = MyInvocation.BoundParameters.TryGetValue(parameter, out var bound) ? bound : GetVariableValue(preference);
        return LanguagePrimitives.TryConvertTo<ActionPreference>(value, out var action) &&
            action is ActionPreference.SilentlyContinue or ActionPreference.Ignore;
    }

    bool WouldPrompt()
    {
        var bound = MyInvocation.BoundParameters;
        if ((bound.TryGetValue("WhatIf", out var whatIf) ? LanguagePrimitives.IsTrue(whatIf) : LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"))))
        {
            return false;
        }

        if (bound.TryGetValue("Confirm", out var confirm))
        {
            return LanguagePrimitives.IsTrue(confirm);
        }

        var preference = LanguagePrimitives.TryConvertTo<ConfirmImpact>(GetVariableValue("ConfirmPreference"), out var p) ? p : ConfirmImpact.High;
        var impact = GetType().GetCustomAttribute<CmdletAttribute>()?.ConfirmImpact ?? ConfirmImpact.Medium;
        return preference != ConfirmImpact.None && impact >= preference;
    }

    /// <summary>
    /// Whether someone can answer a prompt: not in a CI step, and for the console host only with a console whose input
    /// is a keyboard (other hosts, such as an editor's, bring their own dialogs).
    /// </summary>
    internal static bool CanPrompt(PSHost? host)
    {
        if (PipelineLog.Detect() != PipelineKind.None)
        {
            return false;
        }

        if (host is null || !string.Equals(host.Name, "ConsoleHost", StringComparison.Ordinal))
        {
            return true;
        }

        return Environment.UserInteractive && !Console.IsInputRedirected && !StartedNonInteractive();
    }

    /// <summary>pwsh -NonInteractive (any unambiguous prefix from -noni, as pwsh takes it).</summary>
    static bool StartedNonInteractive() => Environment.GetCommandLineArgs().Any(arg =>
    {
        var name = arg.TrimStart('-', '/');
        return arg.Length > name.Length && name.Length >= 4 &&
            "noninteractive".StartsWith(name, StringComparison.OrdinalIgnoreCase);
    });

    static string ErrorIdOf(ErrorRecord record) => record.Exception is ModelLibraryException library
        ? library.ErrorId
        : record.FullyQualifiedErrorId.Split(',')[0];

    static string MessageOf(ErrorRecord record) => record.ErrorDetails?.Message is { Length: > 0 } message ? message : record.Exception.Message;

    protected void WriteLibraryError(ModelLibraryException exception, object? target = null) =>
        WriteError(ErrorRecordFactory.Create(exception, target));

    protected void ThrowLibraryError(ModelLibraryException exception, object? target = null) =>
        ThrowTerminatingError(ErrorRecordFactory.Create(exception, target));

    protected void WriteWarnings(IEnumerable<string> warnings)
    {
        foreach (var warning in warnings)
        {
            WriteWarning(warning);
        }
    }

    /// <summary>
    /// Runs one unit of the cmdlet's work, turning a library error into a non-terminating error so the pipeline
    /// goes on with the next item; a bad configuration stops the cmdlet, since nothing else can work either.
    /// Any other exception (a defect) becomes an UnexpectedError for this item alone, not a crash of the pipeline.
    /// </summary>
    protected void Guard(Action action, object? target = null)
    {
        try
        {
            action();
        }
        catch (ModelLibraryException e) when (e.ErrorId == ErrorIds.InvalidConfiguration)
        {
            ThrowLibraryError(e, target);
        }
        catch (ModelLibraryException e)
        {
            WriteLibraryError(e, target);
        }
        catch (Exception e) when (IsUnexpected(e))
        {
            WriteLibraryError(Errors.UnexpectedError(e, target), target);
        }
    }

    /// <summary>
    /// Whether an exception is a defect to report for one item. PowerShell's own flow (a stopped pipeline,
    /// -ErrorAction Stop, a terminating error: all <see cref="RuntimeException"/>s) and Ctrl+C pass through.
    /// </summary>
    protected bool IsUnexpected(Exception e) =>
        e is not (RuntimeException or ModelLibraryException or OutOfMemoryException)
        && !(e is OperationCanceledException && StopToken.IsCancellationRequested);
}
