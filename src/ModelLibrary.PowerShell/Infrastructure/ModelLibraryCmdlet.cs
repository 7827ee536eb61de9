using System.Collections.Concurrent;
using System.Management.Automation;
using ModelLibrary.Configuration;
using ModelLibrary.Library;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>
/// Base of every cmdlet: runs Core's async work on a worker thread while the pipeline thread pumps whatever the
/// work posts back (progress, warnings, output), since PowerShell only allows Write* calls on the pipeline thread.
/// Ctrl+C (StopProcessing) cancels the work.
/// </summary>
public abstract class ModelLibraryCmdlet : PSCmdlet
{
    readonly CancellationTokenSource stopping = new();
    BlockingCollection<Action>? pending;

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
