using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;
using Xunit;

namespace ModelLibrary.PowerShell.Tests;

public class ErrorRecordFactoryTests
{
    [Fact]
    public void Maps_id_category_target_and_recommended_action()
    {
        var e = new DiskSpaceException("tinyllama", 100, 10, "/models");
        var record = ErrorRecordFactory.Create(e);
        Assert.Equal("InsufficientDiskSpace", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceUnavailable, record.CategoryInfo.Category);
        Assert.Equal("tinyllama", record.TargetObject);
        Assert.Same(e, record.Exception);
        Assert.Contains("Free up disk space.", record.ErrorDetails.RecommendedAction);
        Assert.Contains("Choose a smaller model.", record.ErrorDetails.RecommendedAction);
    }

    [Theory]
    [InlineData(ErrorKind.NotFound, ErrorCategory.ObjectNotFound)]
    [InlineData(ErrorKind.ConnectionError, ErrorCategory.ConnectionError)]
    [InlineData(ErrorKind.SecurityError, ErrorCategory.SecurityError)]
    [InlineData(ErrorKind.InvalidData, ErrorCategory.InvalidData)]
    [InlineData(ErrorKind.Timeout, ErrorCategory.OperationTimeout)]
    public void Every_kind_has_a_fitting_category(ErrorKind kind, ErrorCategory category) =>
        Assert.Equal(category, ErrorRecordFactory.Category(kind));

    [Fact]
    public void Every_kind_is_mapped() =>
        Assert.All(Enum.GetValues<ErrorKind>(), k => Assert.NotEqual(ErrorCategory.NotSpecified, ErrorRecordFactory.Category(k)));

    [Fact]
    public void An_explicit_target_wins()
    {
        var record = ErrorRecordFactory.Create(Errors.ModelNotFound("x"), "pipeline-object");
        Assert.Equal("pipeline-object", record.TargetObject);
        Assert.Equal(ErrorCategory.ObjectNotFound, record.CategoryInfo.Category);
    }

    [Fact]
    public void Every_error_id_reaches_PowerShell_with_one_fitting_category()
    {
        Assert.All(ErrorCatalogue.Ids, id => Assert.NotEqual(ErrorCategory.NotSpecified, ErrorRecordFactory.Category(ErrorCatalogue.KindOf(id))));
        // Raised by the download manager and by the importer alike (it was ResourceUnavailable in one, InvalidOperation in the other).
        Assert.Equal(ErrorCategory.ResourceBusy, ErrorRecordFactory.Create(Errors.DownloadInProgress("m", "another process is downloading it")).CategoryInfo.Category);
        Assert.Equal(ErrorCategory.AuthenticationError, ErrorRecordFactory.Category(ErrorCatalogue.KindOf(ErrorIds.AuthenticationRequired)));
    }
}
