namespace ModelLibrary.Tests.Foundation;

public class ErrorInfoTests
{
    [Fact]
    public void Disk_space_errors_carry_the_seed_response()
    {
        var e = new DiskSpaceException("tinyllama", 669000000, 500000000, "/models");
        Assert.Equal(ErrorIds.InsufficientDiskSpace, e.ErrorId);
        Assert.Equal("DiskSpaceError", e.ErrorInfo.Type);
        Assert.Equal(669000000L, e.ErrorInfo.Details["required_space"]);
        Assert.Equal(500000000L, e.ErrorInfo.Details["available_space"]);
        Assert.Equal("tinyllama", e.ErrorInfo.Details["model_id"]);
        Assert.Contains("Free up disk space", e.ErrorInfo.ResolutionSteps);
        Assert.Equal(ErrorKind.ResourceUnavailable, e.Kind);
    }

    [Fact]
    public void Each_exception_type_names_its_seed_error()
    {
        Assert.Equal("NetworkError", new NetworkException("x", 503).ErrorInfo.Type);
        Assert.Equal("ValidationError", Errors.InvalidModelFile("/p", "truncated").ErrorInfo.Type);
        Assert.Equal(ErrorIds.InvalidModelFile, Errors.InvalidModelFile("/p", "truncated").ErrorId);
        Assert.Equal("SecurityError", Errors.PathOutsideRoot("/p", "/r").ErrorInfo.Type);
        Assert.Equal("ModelLibraryError", Errors.ModelNotFound("m").ErrorInfo.Type);
        Assert.Equal(ErrorIds.DownloadTaskNotFound, Errors.DownloadTaskNotFound("t").ErrorId);
    }

    [Theory]
    [InlineData(668788096L, "637.8 MB")]
    [InlineData(512L, "512 B")]
    [InlineData(1536L, "1.5 KB")]
    [InlineData(2147483648L, "2.0 GB")]
    public void Sizes_read_in_human_units(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));
}
