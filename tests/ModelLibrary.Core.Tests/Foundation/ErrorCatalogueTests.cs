using System.Reflection;

namespace ModelLibrary.Tests.Foundation;

/// <summary>One factory per ErrorId, and one kind per id wherever it is raised.</summary>
public class ErrorCatalogueTests
{
    static IEnumerable<string> DeclaredIds() => typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!);

    static IEnumerable<MethodInfo> Factories() => typeof(Errors).GetMethods(BindingFlags.Public | BindingFlags.Static)
        .Where(m => typeof(ModelLibraryException).IsAssignableFrom(m.ReturnType));

    [Fact]
    public void Every_declared_id_has_one_kind_and_a_factory_named_after_it()
    {
        var factoryNames = Factories().Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        Assert.All(DeclaredIds(), id =>
        {
            Assert.True(ErrorCatalogue.Contains(id), $"{id} has no kind in ErrorCatalogue.");
            Assert.Contains(id, factoryNames);
        });
        Assert.Equal(DeclaredIds().OrderBy(i => i), ErrorCatalogue.Ids.OrderBy(i => i));
    }

    [Fact]
    public void The_contract_version_2_ids_are_catalogued()
    {
        Assert.Equal(ErrorKind.AuthenticationError, ErrorCatalogue.KindOf(ErrorIds.AuthenticationRequired));
        Assert.Equal(ErrorKind.InvalidArgument, ErrorCatalogue.KindOf(ErrorIds.AmbiguousModelReference));
        Assert.Equal(ErrorKind.InvalidOperation, ErrorCatalogue.KindOf(ErrorIds.ExternalStore));
    }

    /// <summary>Calls every factory (every overload) and checks the error carries its id's one kind.</summary>
    [Fact]
    public void Every_factory_builds_its_id_with_the_catalogued_kind()
    {
        var built = 0;
        foreach (var factory in Factories())
        {
            var error = (ModelLibraryException)factory.Invoke(null, factory.GetParameters().Select(Sample).ToArray())!;
            Assert.True(ErrorCatalogue.Contains(error.ErrorId), $"{factory} built the uncatalogued id {error.ErrorId}.");
            Assert.Equal(ErrorCatalogue.KindOf(error.ErrorId), error.Kind);
            Assert.False(string.IsNullOrWhiteSpace(error.Message));
            if (DeclaredIds().Contains(factory.Name) && factory.Name != nameof(Errors.FromTaskRow))
            {
                Assert.Equal(factory.Name, error.ErrorId);
            }

            built++;
        }

        Assert.True(built > 30, $"only {built} factories were found");
    }

    [Theory]
    [InlineData(ErrorIds.ChecksumMismatch, typeof(ValidationException), "ValidationError")]
    [InlineData(ErrorIds.InvalidModelFile, typeof(ValidationException), "ValidationError")]
    [InlineData(ErrorIds.UnsafeModelContent, typeof(ModelSecurityException), "SecurityError")]
    [InlineData(ErrorIds.InsecureSource, typeof(ModelSecurityException), "SecurityError")]
    [InlineData(ErrorIds.NetworkFailure, typeof(NetworkException), "NetworkError")]
    [InlineData(ErrorIds.DownloadInProgress, typeof(ModelLibraryException), "ModelLibraryError")]
    public void A_failure_rebuilt_from_a_task_row_has_the_type_and_kind_it_was_raised_with(string errorId, Type type, string seed)
    {
        var error = Errors.FromTaskRow(new DownloadTask { TaskId = "t", ModelId = "m", Status = DownloadStatus.Failed, ErrorId = errorId, ErrorMessage = "gone" });
        Assert.IsType(type, error);
        Assert.Equal(errorId, error.ErrorId);
        Assert.Equal(seed, error.ErrorInfo.Type);
        Assert.Equal(ErrorCatalogue.KindOf(errorId), error.Kind);
    }

    [Fact]
    public void DownloadInProgress_has_one_kind_for_an_import_and_for_a_download()
    {
        // Before the catalogue the download manager raised it as ResourceUnavailable and the importer as InvalidOperation.
        Assert.Equal(ErrorKind.ResourceBusy, Errors.DownloadInProgress("m", "another process is downloading it").Kind);
        Assert.Equal(ErrorKind.ResourceBusy, ErrorCatalogue.KindOf(ErrorIds.DownloadInProgress));
    }

    [Fact]
    public void ChecksumMismatch_gives_the_same_advice_from_a_file_check_and_from_a_validation_summary()
    {
        var file = Errors.ChecksumMismatch("/m/a.gguf", "sha256:" + new string('a', 64), "sha256:" + new string('b', 64), "m");
        var summary = Errors.ChecksumMismatch("The model 'm' failed validation: ...", "m", new Dictionary<string, object?>(), "Remove it with Remove-LibraryModel.");
        Assert.Equal(file.ErrorInfo.ResolutionSteps, summary.ErrorInfo.ResolutionSteps.Take(file.ErrorInfo.ResolutionSteps.Count));
        Assert.Equal(file.GetType(), summary.GetType());
        Assert.Equal("m", file.Target);
    }

    static object? Sample(ParameterInfo parameter)
    {
        var type = Nullable.GetUnderlyingType(parameter.ParameterType) ?? parameter.ParameterType;
        if (type == typeof(string)) return parameter.Name == "errorId" ? ErrorIds.DownloadFailed : "x";
        if (type == typeof(long)) return 1L;
        if (type == typeof(int)) return 1;
        if (type == typeof(double)) return 1.0;
        if (type == typeof(bool)) return true;
        if (type == typeof(object)) return "target";
        if (type == typeof(Exception)) return new IOException("disk");
        if (type == typeof(Uri)) return new Uri("https://example.invalid/m.gguf");
        if (type == typeof(ModelInfo)) return new ModelInfo { Id = "m", Provider = "llama-cpp" };
        if (type == typeof(DownloadTask)) return new DownloadTask { TaskId = "t", ModelId = "m", Status = DownloadStatus.Failed, ErrorId = ErrorIds.NetworkFailure };
        if (type.IsAssignableFrom(typeof(string[]))) return new[] { "a", "b" };
        if (type.IsAssignableFrom(typeof(Dictionary<string, object?>))) return new Dictionary<string, object?> { ["k"] = "v" };
        throw new NotSupportedException($"Add a sample {type} for parameter '{parameter.Name}' of {parameter.Member}.");
    }
}
