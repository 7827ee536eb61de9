using System.Management.Automation;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>The one place where Core's typed errors become PowerShell ErrorRecords.</summary>
public static class ErrorRecordFactory
{
    public static ErrorRecord Create(ModelLibraryException exception, object? target = null)
    {
        var record = new ErrorRecord(exception, exception.ErrorId, Category(exception.Kind), target ?? exception.Target);
        record.ErrorDetails = new ErrorDetails(exception.Message)
        {
            RecommendedAction = string.Join(" ", exception.ErrorInfo.ResolutionSteps.Select(s => s.TrimEnd('.') + ".")),
        };
        return record;
    }

    public static ErrorCategory Category(ErrorKind kind) => kind switch
    {
        ErrorKind.NotFound => ErrorCategory.ObjectNotFound,
        ErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        ErrorKind.InvalidData => ErrorCategory.InvalidData,
        ErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        ErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        ErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        ErrorKind.SecurityError => ErrorCategory.SecurityError,
        ErrorKind.ResourceExists => ErrorCategory.ResourceExists,
        ErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        ErrorKind.Timeout => ErrorCategory.OperationTimeout,
        ErrorKind.ResourceBusy => ErrorCategory.ResourceBusy,
        ErrorKind.AuthenticationError => ErrorCategory.AuthenticationError,
        _ => ErrorCategory.NotSpecified,
    };
}
