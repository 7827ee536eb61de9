using ModelLibrary.Files;
using ModelLibrary.Formats;
using ModelLibrary.Tests.Formats;
using ModelLibrary.Library;
using ModelLibrary.Validation;

namespace ModelLibrary.Tests.Validation;

/// <summary>
/// ModelValidator's checks. Real files: stories260K.gguf (llama.cpp's llama2c converter), the picklescan test pickles
/// and candle's torch.save files (tests/fixtures). Built here: truncated and empty copies, text files, GGUF split sets
/// (GgufBuilder), TorchScript archives (PickleBuilder), and symbolic links.
/// </summary>
public class ModelValidatorTests
{
    static Task<ModelValidationResult> Validate(TestLibrary lib, string path, ModelInfo? model = null, bool verifyChecksum = true) =>
        ModelValidator.ValidateFileAsync(path, model, lib.Configuration, verifyChecksum, CancellationToken.None);

    static ModelInfo Declared(long? size = Stories.Size, string? checksum = Stories.Checksum, string? format = "gguf") =>
        new() { Id = "stories", Name = "stories", Provider = "llama-cpp", Size = size, Checksum = checksum, Format = format };

    [Fact]
    public async Task A_real_gguf_matching_its_declaration_passes_every_check()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, "llama-cpp/stories/stories260K.gguf");
        var result = await Validate(lib, path, Declared());
        Assert.True(result.Passed);
        Assert.Equal(new[] { "PathContainment", "Format", "Size", "Checksum", "SecurityScan" }, result.Checks.Select(c => c.Name));
        Assert.Equal(ValidationOutcome.Passed, result["PathContainment"]!.Outcome);
        Assert.Equal(ValidationOutcome.Passed, result["Format"]!.Outcome);
        Assert.Contains("GGUF v3", result["Format"]!.Message);
        Assert.Equal(ValidationOutcome.Passed, result["Size"]!.Outcome);
        Assert.Equal(ValidationOutcome.Passed, result["Checksum"]!.Outcome);
        Assert.Equal(ValidationOutcome.Skipped, result["SecurityScan"]!.Outcome);
        Assert.Equal("stories", result.ModelId);
        Assert.NotNull(result.Header);
        ModelValidator.ThrowIfFailed(result);
        Assert.Null(ModelValidator.ToException(result));
    }

    [Fact]
    public async Task A_checksum_mismatch_fails_with_ChecksumMismatch()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, "llama-cpp/stories/stories260K.gguf");
        var result = await Validate(lib, path, Declared(checksum: "sha256:" + new string('0', 64)));
        Assert.False(result.Passed);
        var check = result["Checksum"]!;
        Assert.Equal(ValidationOutcome.Failed, check.Outcome);
        Assert.Equal(ErrorIds.ChecksumMismatch, check.ErrorId);
        Assert.Contains(Stories.Checksum, check.Message);
        var e = Assert.Throws<ValidationException>(() => ModelValidator.ThrowIfFailed(result));
        Assert.Equal(ErrorIds.ChecksumMismatch, e.ErrorId);
        Assert.Equal("ValidationError", e.ErrorInfo.Type);
        Assert.Equal("stories", e.Target);
    }

    [Fact]
    public async Task Without_a_known_checksum_the_check_is_skipped_with_the_reason()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, "llama-cpp/stories260K.gguf");
        var result = await Validate(lib, path, Declared(checksum: null));
        Assert.True(result.Passed);
        Assert.Equal(ValidationOutcome.Skipped, result["Checksum"]!.Outcome);
        Assert.Contains("No checksum is known", result["Checksum"]!.Message);

        // The download engine verifies while downloading and asks for no second pass.
        var engine = await Validate(lib, path, Declared(checksum: "sha256:" + new string('0', 64)), verifyChecksum: false);
        Assert.True(engine.Passed);
        Assert.Equal(ValidationOutcome.Skipped, engine["Checksum"]!.Outcome);
    }

    [Fact]
    public async Task A_truncated_gguf_fails_the_format_check_with_InvalidModelFile()
    {
        using var lib = new TestLibrary();
        var bytes = File.ReadAllBytes(Fixtures.File("gguf", "stories260K.gguf"))[..100_000];
        var path = lib.Write("llama-cpp/stories/stories260K.gguf", bytes);
        var result = await Validate(lib, path, Declared());
        Assert.Equal(ValidationOutcome.Failed, result["Format"]!.Outcome);
        Assert.Contains("truncated", result["Format"]!.Message);
        Assert.Equal(ValidationOutcome.Failed, result["Size"]!.Outcome);
        Assert.Equal(ValidationOutcome.Failed, result["Checksum"]!.Outcome);
        // The checksum names the problem most precisely when both fail.
        Assert.Equal(ErrorIds.ChecksumMismatch, Assert.Throws<ValidationException>(() => ModelValidator.ThrowIfFailed(result)).ErrorId);

        var withoutDeclaration = await Validate(lib, path);
        Assert.Equal(ErrorIds.InvalidModelFile, Assert.Throws<ValidationException>(() => ModelValidator.ThrowIfFailed(withoutDeclaration)).ErrorId);
    }

    [Fact]
    public async Task An_empty_file_and_a_text_file_fail_the_format_check()
    {
        using var lib = new TestLibrary();
        var empty = lib.Write("llama-cpp/empty.gguf", Array.Empty<byte>());
        var emptyResult = await Validate(lib, empty);
        Assert.Equal(ValidationOutcome.Failed, emptyResult["Format"]!.Outcome);
        Assert.Contains("empty", emptyResult["Format"]!.Message);

        var text = lib.Write("llama-cpp/readme.gguf", "# not a model\n"u8.ToArray());
        var textResult = await Validate(lib, text);
        Assert.Equal(ErrorIds.InvalidModelFile, textResult["Format"]!.ErrorId);
        Assert.Contains("not a GGUF, safetensors or PyTorch file", textResult["Format"]!.Message);
    }

    [Fact]
    public async Task A_declared_size_or_format_that_differs_from_the_file_fails()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, "llama-cpp/stories260K.gguf");
        var size = await Validate(lib, path, Declared(size: 12345, checksum: null));
        Assert.Equal(ValidationOutcome.Failed, size["Size"]!.Outcome);
        Assert.Contains("12345", size["Size"]!.Message);
        Assert.Equal(ErrorIds.InvalidModelFile, size["Size"]!.ErrorId);

        var format = await Validate(lib, path, Declared(checksum: null, format: "safetensors"));
        Assert.Equal(ValidationOutcome.Failed, format["Format"]!.Outcome);
        Assert.Contains("'safetensors'", format["Format"]!.Message);
    }

    [Theory]
    [InlineData("pickle/malicious1.zip", "builtins.eval")]
    [InlineData("pickle/malicious0.pkl", "__builtin__.eval")]
    [InlineData("pickle/pytorch_magic_bypass.pt", "posix.system")]
    [InlineData("pickle/malicious2_v4.pkl", "posix.system")]
    public async Task Malicious_pickles_fail_the_security_scan_with_UnsafeModelContent(string fixture, string global)
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(fixture, "transformers/evil/" + Path.GetFileName(fixture));
        var result = await Validate(lib, path);
        var scan = result["SecurityScan"]!;
        Assert.Equal(ValidationOutcome.Failed, scan.Outcome);
        Assert.Equal(ErrorIds.UnsafeModelContent, scan.ErrorId);
        Assert.Contains(global, scan.Message);
        var e = Assert.Throws<ModelSecurityException>(() => ModelValidator.ThrowIfFailed(result));
        Assert.Equal(ErrorIds.UnsafeModelContent, e.ErrorId);
        Assert.Equal("SecurityError", e.ErrorInfo.Type);
    }

    [Fact]
    public async Task A_TorchScript_archive_fails_the_security_scan_with_UnsafeModelContent_and_is_quarantined()
    {
        using var lib = new TestLibrary();
        var path = lib.Write("transformers/scripted/model.pt", PickleBuilder.TorchScriptZip());
        var result = await Validate(lib, path);
        Assert.Equal(ValidationOutcome.Passed, result["Format"]!.Outcome);
        Assert.Contains("TorchScript zip", result["Format"]!.Message);
        var scan = result["SecurityScan"]!;
        Assert.Equal(ValidationOutcome.Failed, scan.Outcome);
        Assert.Equal(ErrorIds.UnsafeModelContent, scan.ErrorId);
        Assert.Contains("TorchScript code", scan.Message);
        Assert.Equal(ErrorIds.UnsafeModelContent, Assert.Throws<ModelSecurityException>(() => ModelValidator.ThrowIfFailed(result)).ErrorId);

        lib.Service.Models.Upsert(new ModelInfo { Id = "scripted", Name = "scripted", Provider = "transformers", Status = ModelStatus.Local, LocalPath = path, Source = "imported" });
        var tester = new LibraryModelTester(lib.Service);
        var tested = await tester.QuarantineAsync(await tester.TestAsync("scripted", CancellationToken.None), CancellationToken.None);
        Assert.Equal(Path.Combine(lib.Configuration.QuarantineDirectory, "scripted", "model.pt"), tested.QuarantinePath);
        Assert.False(File.Exists(path));
        var row = lib.Service.Models.Get("scripted")!;
        Assert.Equal(ModelStatus.Error, row.Status);
        Assert.Contains("TorchScript", row.StatusMessage);
    }

    [Fact]
    public async Task A_legacy_tar_checkpoint_is_validated_like_any_torch_file()
    {
        using var lib = new TestLibrary();
        var good = await Validate(lib, lib.Write("transformers/old/model.pt", PickleBuilder.LegacyTarCheckpoint()));
        Assert.True(good.Passed, string.Join("; ", good.Checks));
        Assert.Contains("PyTorch legacy tar", good["Format"]!.Message);
        Assert.Equal(ValidationOutcome.Passed, good["SecurityScan"]!.Outcome);

        var evil = await Validate(lib, lib.Write("transformers/old-evil/model.pt",
            PickleBuilder.LegacyTarCheckpoint(pickle: PickleBuilder.P("\u0080\u0002cos\nsystem\n)R."))));
        Assert.Equal(ErrorIds.UnsafeModelContent, evil["SecurityScan"]!.ErrorId);
        Assert.Contains("os.system", evil["SecurityScan"]!.Message);
    }

    [Fact]
    public async Task A_benign_torch_file_passes_the_scan()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture("pickle/candle/test.pt", "transformers/candle/test.pt");
        var result = await Validate(lib, path);
        Assert.True(result.Passed, string.Join("; ", result.Checks));
        Assert.Equal(ValidationOutcome.Passed, result["SecurityScan"]!.Outcome);
    }

    [Fact]
    public async Task A_link_inside_the_library_that_leads_out_fails_containment_and_is_not_opened()
    {
        using var lib = new TestLibrary();
        var target = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));
        Directory.CreateDirectory(Path.Combine(lib.Root, "llama-cpp"));
        var link = Path.Combine(lib.Root, "llama-cpp", "linked.gguf");
        File.CreateSymbolicLink(link, target);

        var result = await Validate(lib, link, Declared());
        var check = result["PathContainment"]!;
        Assert.Equal(ValidationOutcome.Failed, check.Outcome);
        Assert.Equal(ErrorIds.UnsafeModelContent, check.ErrorId);
        Assert.Contains(target, check.Message);
        Assert.All(result.Checks.Skip(1), c => Assert.Equal(ValidationOutcome.Skipped, c.Outcome));
        Assert.Equal(ErrorIds.UnsafeModelContent, Assert.Throws<ModelSecurityException>(() => ModelValidator.ThrowIfFailed(result)).ErrorId);
    }

    [Fact]
    public async Task A_file_outside_the_library_is_a_warning_not_a_failure()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));
        var result = await Validate(lib, path, Declared());
        Assert.True(result.Passed);
        Assert.Equal(ValidationOutcome.Warning, result["PathContainment"]!.Outcome);
    }

    [Fact]
    public async Task Configuration_switches_turn_checks_off()
    {
        using var noScan = new TestLibrary(scanning: false);
        var evil = noScan.CopyFixture("pickle/malicious1.zip", "transformers/evil/evil.pt");
        var unscanned = await Validate(noScan, evil);
        Assert.Equal(ValidationOutcome.Skipped, unscanned["SecurityScan"]!.Outcome);
        Assert.Equal(ValidationOutcome.Skipped, unscanned["PathContainment"]!.Outcome);
        Assert.Contains("ENABLE_SECURITY_SCANNING", unscanned["SecurityScan"]!.Message);

        using var noValidation = new TestLibrary(validation: false);
        var truncated = noValidation.Write("llama-cpp/t.gguf", File.ReadAllBytes(Fixtures.File("gguf", "stories260K.gguf"))[..5000]);
        var unvalidated = await Validate(noValidation, truncated, Declared());
        Assert.True(unvalidated.Passed);
        foreach (var name in new[] { "Format", "Size", "Checksum" })
        {
            Assert.Equal(ValidationOutcome.Skipped, unvalidated[name]!.Outcome);
            Assert.Contains("ENABLE_MODEL_VALIDATION", unvalidated[name]!.Message);
        }
    }

    [Fact]
    public async Task A_split_gguf_is_validated_as_one_model_of_all_its_parts()
    {
        using var lib = new TestLibrary();
        var parts = SplitSet.Write(Path.Combine(lib.Root, "llama-cpp", "split"), "model-q8_0", 3);
        var total = parts.Sum(p => new FileInfo(p).Length);
        var result = await Validate(lib, parts[0], Declared(size: total, checksum: null));
        Assert.True(result.Passed, string.Join("; ", result.Checks));
        Assert.Contains("3 parts", result["Format"]!.Message);

        File.Delete(parts[2]);
        var missing = await Validate(lib, parts[0]);
        Assert.Equal(ValidationOutcome.Failed, missing["Format"]!.Outcome);
        Assert.Contains("missing part", missing["Format"]!.Message);
    }

    [Theory]
    [InlineData("sha256:ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789", "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("md5:abc", null)]
    [InlineData("", null)]
    public void Checksums_are_normalised(string input, string? expected) => Assert.Equal(expected, Sha256Checksum.Normalize(input));
}

/// <summary>Builds GGUF split sets (name-0000i-of-0000N.gguf) with <see cref="GgufBuilder"/>.</summary>
internal static class SplitSet
{
    public static string[] Write(string folder, string prefix, int count)
    {
        Directory.CreateDirectory(folder);
        var paths = new string[count];
        for (var i = 0; i < count; i++)
        {
            var builder = new GgufBuilder()
                .Value("split.no", GgufValueType.UInt16, (ushort)i)
                .Value("split.count", GgufValueType.UInt16, (ushort)count);
            if (i == 0)
            {
                builder.String("general.architecture", "llama").Value("llama.context_length", GgufValueType.UInt32, 4096u);
            }

            builder.Tensor($"blk.{i}.a", 0, 64, 10);
            paths[i] = GgufSplitSet.PartPath(Path.Combine(folder, prefix), i + 1, count);
            File.WriteAllBytes(paths[i], builder.Build());
        }

        return paths;
    }
}
