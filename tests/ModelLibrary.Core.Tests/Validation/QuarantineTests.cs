using ModelLibrary.Library;
using ModelLibrary.Validation;

namespace ModelLibrary.Tests.Validation;

/// <summary>
/// Quarantine and Test-LibraryModel's Core (LibraryModelTester). Real files: stories260K.gguf and the picklescan
/// malicious pickles (tests/fixtures); registry rows, split sets and links are built here.
/// </summary>
public class QuarantineTests
{
    static ModelInfo Row(string id, string localPath, string? checksum = null) => new()
    {
        Id = id, Name = id, Provider = "llama-cpp", Status = ModelStatus.Local, LocalPath = localPath, Checksum = checksum, Source = "imported",
    };

    [Fact]
    public void Quarantine_moves_into_quarantine_id_and_never_overwrites()
    {
        using var lib = new TestLibrary();
        var first = lib.CopyFixture(Stories.Fixture, "llama-cpp/m/stories260K.gguf");
        var moved = ModelValidator.Quarantine(first, new[] { first }, "m", lib.Configuration);
        Assert.Equal(Path.Combine(lib.Configuration.QuarantineDirectory, "m", "stories260K.gguf"), moved);
        Assert.False(File.Exists(first));

        var second = lib.Write("llama-cpp/m/stories260K.gguf", new byte[] { 1, 2, 3 });
        var movedAgain = ModelValidator.Quarantine(second, new[] { second }, "m", lib.Configuration);
        Assert.Equal(Path.Combine(lib.Configuration.QuarantineDirectory, "m", "2", "stories260K.gguf"), movedAgain);
        Assert.Equal(Stories.Size, new FileInfo(moved).Length);
        Assert.Equal(3, new FileInfo(movedAgain).Length);
    }

    [Fact]
    public void Quarantine_refuses_files_outside_the_library_and_leaves_them()
    {
        using var lib = new TestLibrary();
        var outside = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));
        var e = Assert.Throws<ModelSecurityException>(() => ModelValidator.Quarantine(outside, new[] { outside }, "m", lib.Configuration));
        Assert.Equal(ErrorIds.UnsafeModelContent, e.ErrorId);
        Assert.True(File.Exists(outside));

        Directory.CreateDirectory(Path.Combine(lib.Root, "llama-cpp"));
        var link = Path.Combine(lib.Root, "llama-cpp", "link.gguf");
        File.CreateSymbolicLink(link, outside);
        Assert.Throws<ModelSecurityException>(() => ModelValidator.Quarantine(link, new[] { link }, "m", lib.Configuration));
        Assert.True(File.Exists(link));
    }

    [Fact]
    public async Task A_failing_model_is_quarantined_marked_Error_and_then_removable()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, "llama-cpp/bad/stories260K.gguf");
        lib.Service.Models.Upsert(Row("bad", path, "sha256:" + new string('1', 64)));
        var tester = new LibraryModelTester(lib.Service);

        var result = await tester.TestAsync("bad", CancellationToken.None);
        Assert.False(result.Passed);
        Assert.Equal(ErrorIds.ChecksumMismatch, result["Checksum"]!.ErrorId);
        Assert.Contains("quarantine", tester.DescribeQuarantine(result));
        Assert.True(File.Exists(path)); // testing alone changes nothing

        result = await tester.QuarantineAsync(result, CancellationToken.None);
        var quarantined = Path.Combine(lib.Configuration.QuarantineDirectory, "bad", "stories260K.gguf");
        Assert.Equal(quarantined, result.QuarantinePath);
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(quarantined));
        var row = lib.Service.Models.Get("bad")!;
        Assert.Equal(ModelStatus.Error, row.Status);
        Assert.Equal(quarantined, row.LocalPath);
        Assert.Contains("Checksum", row.StatusMessage);
        Assert.Contains(quarantined, row.StatusMessage);
        var e = Assert.IsType<ValidationException>(ModelValidator.ToException(result));
        Assert.Contains(quarantined, e.Message);

        // Already in quarantine: a second test reports, but moves nothing.
        var again = await tester.TestAsync("bad", CancellationToken.None);
        Assert.Null(tester.DescribeQuarantine(again));

        var model = await lib.Service.GetAsync("bad", CancellationToken.None);
        Assert.Contains(lib.Service.PathsToRemove(model), p => p.StartsWith(lib.Configuration.QuarantineDirectory, StringComparison.Ordinal));
        Assert.Null(await lib.Service.RemoveAsync(model, CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(lib.Configuration.QuarantineDirectory, "bad")));
        Assert.Null(lib.Service.Models.Get("bad"));
    }

    [Fact]
    public async Task A_split_model_is_quarantined_with_all_its_parts()
    {
        using var lib = new TestLibrary();
        var parts = SplitSet.Write(Path.Combine(lib.Root, "llama-cpp", "split"), "model", 2);
        lib.Service.Models.Upsert(Row("split", parts[0]));
        var row = lib.Service.Models.Get("split")!;
        row.Size = 1; // declared size the parts do not have
        lib.Service.Models.Upsert(row);
        var tester = new LibraryModelTester(lib.Service);
        var result = await tester.QuarantineAsync(await tester.TestAsync("split", CancellationToken.None), CancellationToken.None);
        Assert.Equal(ValidationOutcome.Failed, result["Size"]!.Outcome);
        Assert.All(parts, p => Assert.False(File.Exists(p)));
        Assert.All(parts, p => Assert.True(File.Exists(Path.Combine(lib.Configuration.QuarantineDirectory, "split", Path.GetFileName(p)))));
    }

    [Fact]
    public async Task A_model_outside_the_library_is_marked_Error_but_never_moved()
    {
        using var lib = new TestLibrary();
        var outside = lib.CopyFixture("pickle/malicious0.pkl", Path.Combine(lib.Outside, "evil.pkl"));
        lib.Service.Models.Upsert(Row("outside", outside));
        var tester = new LibraryModelTester(lib.Service);
        var result = await tester.TestAsync("outside", CancellationToken.None);
        Assert.Equal(ErrorIds.UnsafeModelContent, result["SecurityScan"]!.ErrorId);
        Assert.Contains("never moves", tester.DescribeQuarantine(result));
        await tester.QuarantineAsync(result, CancellationToken.None);
        Assert.Null(result.QuarantinePath);
        Assert.True(File.Exists(outside));
        Assert.Equal(ModelStatus.Error, lib.Service.Models.Get("outside")!.Status);
    }

    [Fact]
    public async Task A_model_without_a_file_is_not_local()
    {
        using var lib = new TestLibrary();
        var tester = new LibraryModelTester(lib.Service);
        var e = await Assert.ThrowsAsync<ModelLibraryException>(() => tester.TestAsync("tinyllama-1.1b-chat-q4", CancellationToken.None));
        Assert.Equal(ErrorIds.ModelNotLocal, e.ErrorId);
        Assert.Contains("Start-ModelDownload", string.Join(" ", e.ErrorInfo.ResolutionSteps));

        var missing = await Assert.ThrowsAsync<ModelLibraryException>(() => tester.TestAsync("no-such-model", CancellationToken.None));
        Assert.Equal(ErrorIds.ModelNotFound, missing.ErrorId);
    }
}
