using System.Management.Automation;
using System.Management.Automation.Runspaces;
using ModelLibrary.PowerShell.Infrastructure;
using Xunit;

namespace ModelLibrary.PowerShell.Tests;

/// <summary>
/// A cmdlet built on <see cref="ModelLibraryCmdlet"/> that fails in different ways per pipeline input, run in a real
/// PowerShell runspace: a defect in one input must become that input's error, and the next input still runs.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "GuardedInput")]
public sealed class TestGuardedInputCommand : ModelLibraryCmdlet
{
    [Parameter(ValueFromPipeline = true)]
    public string Item { get; set; } = "";

    protected override void ProcessRecord() => Guard(() =>
    {
        switch (Item)
        {
            case "defect":
                throw new InvalidOperationException("a bug in the cmdlet");
            case "defect-in-core":
                Run<object?>(_ => throw new NullReferenceException("a bug in Core"));
                break;
            case "library":
                throw Errors.ModelNotFound(Item);
            case "stop":
                ThrowTerminatingError(new ErrorRecord(new IOException("fatal"), "Fatal", ErrorCategory.WriteError, Item));
                break;
            default:
                WriteObject(Item);
                break;
        }
    }, Item);
}

public class GuardTests
{
    static (List<string> Output, List<ErrorRecord> Errors, Exception? Terminating) Invoke(params string[] items)
    {
        var state = InitialSessionState.CreateDefault2();
        state.Commands.Add(new SessionStateCmdletEntry("Test-GuardedInput", typeof(TestGuardedInputCommand), null));
        using var ps = System.Management.Automation.PowerShell.Create(state);
        ps.AddCommand("Test-GuardedInput");
        Exception? terminating = null;
        var output = new List<string>();
        try
        {
            output.AddRange(ps.Invoke(items).Select(o => (string)o.BaseObject));
        }
        catch (RuntimeException e)
        {
            terminating = e;
        }

        return (output, ps.Streams.Error.ToList(), terminating);
    }

    [Fact]
    public void An_unexpected_exception_in_one_input_is_that_inputs_error_and_the_next_input_runs()
    {
        var (output, errors, terminating) = Invoke("a", "defect", "b", "defect-in-core", "c");

        Assert.Null(terminating);
        Assert.Equal(new[] { "a", "b", "c" }, output);
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal("UnexpectedError," + typeof(TestGuardedInputCommand).FullName, e.FullyQualifiedErrorId));
        Assert.Equal("defect", errors[0].TargetObject);
        Assert.IsType<InvalidOperationException>(errors[0].Exception.InnerException);
        Assert.Contains("a bug in the cmdlet", errors[0].Exception.Message);
        Assert.Equal("defect-in-core", errors[1].TargetObject);
        Assert.IsType<NullReferenceException>(errors[1].Exception.InnerException);
        Assert.Equal(ErrorCategory.InvalidOperation, errors[0].CategoryInfo.Category);
    }

    [Fact]
    public void Library_errors_keep_their_own_id()
    {
        var (output, errors, _) = Invoke("library", "a");
        Assert.Equal(new[] { "a" }, output);
        Assert.StartsWith("ModelNotFound,", Assert.Single(errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_terminating_error_still_stops_the_pipeline()
    {
        var (_, _, terminating) = Invoke("a", "stop", "b");
        var record = Assert.IsAssignableFrom<IContainsErrorRecord>(terminating).ErrorRecord;
        Assert.StartsWith("Fatal,", record.FullyQualifiedErrorId);
    }
}
