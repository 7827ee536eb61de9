using ModelLibrary.Library;
using ModelLibrary.Tests.Formats;
using ModelLibrary.Validation;

namespace ModelLibrary.Tests.Validation;

/// <summary>
/// Import-LibraryModel's Core (ModelImporter). Real files: stories260K.gguf, model.safetensors and the picklescan
/// pickles (tests/fixtures). Built here: truncated copies, sharded safetensors folders (SafetensorsBuilder) with
/// their index, GGUF split sets, and catalogs.
/// </summary>
public class ImportTests
{
    internal static async Task<ModelInfo> Import(TestLibrary lib, string path, string? id = null, ImportMode mode = ImportMode.Copy, bool force = false, string? provider = null)
    {
        var importer = new ModelImporter(lib.Service);
        var plan = await importer.PlanAsync(new ImportRequest { Path = path, Id = id, Mode = mode, Force = force, Provider = provider }, CancellationToken.None);
        return await importer.ImportAsync(plan, CancellationToken.None);
    }

    [Fact]
    public async Task A_gguf_file_is_copied_into_its_provider_folder_and_registered_Local()
    {
        using var lib = new TestLibrary();
        var source = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var model = await Import(lib, source);

        Assert.Equal("stories260k", model.Id);
        Assert.Equal("llama-cpp", model.Provider);
        Assert.Equal(ModelStatus.Local, model.Status);
        Assert.Equal("imported", model.Source);
        Assert.Equal("gguf", model.Format);
        Assert.Equal(Stories.Checksum, model.Checksum);
        Assert.Equal(Stories.Size, model.DiskUsage);
        Assert.True(model.DownloadDate >= before);
        Assert.Equal(Path.Combine(lib.Configuration.LlamaCppModelsDirectory, "stories260k", "stories260K.gguf"), model.LocalPath);
        Assert.Equal("llama", model.Metadata.Architecture);
        Assert.Equal(292800, model.Metadata.ParameterCount);
        Assert.True(File.Exists(source)); // copied, not moved
        Assert.Equal(new[] { "stories260K.gguf" }, Directory.GetFiles(Path.GetDirectoryName(model.LocalPath!)!).Select(Path.GetFileName));

        // What was imported passes Test-LibraryModel, checksum included.
        var result = await new LibraryModelTester(lib.Service).TestAsync("stories260k", CancellationToken.None);
        Assert.True(result.Passed, string.Join("; ", result.Checks));
        Assert.Equal(ValidationOutcome.Passed, result["Checksum"]!.Outcome);
    }

    [Fact]
    public async Task An_existing_Local_id_is_refused_without_Force()
    {
        using var lib = new TestLibrary();
        var source = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));
        await Import(lib, source, id: "mine");
        var e = await Assert.ThrowsAsync<ModelLibraryException>(() => Import(lib, source, id: "mine"));
        Assert.Equal(ErrorIds.ModelExists, e.ErrorId);
        Assert.Equal(ErrorKind.ResourceExists, e.Kind);
        var replaced = await Import(lib, source, id: "mine", force: true);
        Assert.Equal(ModelStatus.Local, replaced.Status);
    }

    /// <summary>The stories fixture with its last byte (tensor data) flipped: a valid GGUF of the same size, another checksum.</summary>
    static string WriteAlteredStories(TestLibrary lib, string destination)
    {
        var bytes = File.ReadAllBytes(Fixtures.File("gguf", "stories260K.gguf"));
        bytes[^1] ^= 0xFF;
        return lib.Write(destination, bytes);
    }

    [Fact]
    public async Task Force_with_another_file_name_deletes_the_replaced_copy()
    {
        using var lib = new TestLibrary();
        var first = await Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf")), id: "mine");
        var renamed = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "renamed.gguf"));

        var replaced = await Import(lib, renamed, id: "mine", force: true);

        var folder = Path.Combine(lib.Configuration.LlamaCppModelsDirectory, "mine");
        Assert.Equal(Path.Combine(folder, "renamed.gguf"), replaced.LocalPath);
        Assert.Equal(replaced.LocalPath, lib.Service.Models.Get("mine")!.LocalPath);
        Assert.False(File.Exists(first.LocalPath));
        Assert.Equal(new[] { "renamed.gguf" }, Directory.GetFiles(folder).Select(Path.GetFileName));
        Assert.True(File.Exists(renamed)); // the source of a copy stays
        // No orphan turns up as a model nobody registered.
        var local = (await lib.Service.ListAsync(CancellationToken.None)).Models.Where(m => m.Status == ModelStatus.Local);
        Assert.Equal(new[] { "mine" }, local.Select(m => m.Id));
    }

    [Fact]
    public async Task Force_with_the_same_file_name_keeps_the_new_file()
    {
        using var lib = new TestLibrary();
        var first = await Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "a", "stories260K.gguf")), id: "mine");
        var altered = WriteAlteredStories(lib, Path.Combine(lib.Outside, "b", "stories260K.gguf"));

        var replaced = await Import(lib, altered, id: "mine", force: true);

        Assert.Equal(first.LocalPath, replaced.LocalPath);
        Assert.True(File.Exists(replaced.LocalPath));
        Assert.Equal(File.ReadAllBytes(altered), File.ReadAllBytes(replaced.LocalPath!));
        Assert.NotEqual(Stories.Checksum, replaced.Checksum);
        Assert.Equal(ModelStatus.Local, replaced.Status);
    }

    [Fact]
    public async Task Force_over_a_file_registered_in_place_outside_the_library_leaves_that_file_alone()
    {
        using var lib = new TestLibrary();
        var kept = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "kept.gguf"));
        await Import(lib, kept, id: "mine", mode: ImportMode.InPlace);

        var replaced = await Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "other.gguf")), id: "mine", force: true);

        Assert.True(File.Exists(kept));
        Assert.Equal(File.ReadAllBytes(Fixtures.File("gguf", "stories260K.gguf")), File.ReadAllBytes(kept));
        Assert.Equal(Path.Combine(lib.Configuration.LlamaCppModelsDirectory, "mine", "other.gguf"), replaced.LocalPath);
    }

    [Fact]
    public async Task Force_keeps_a_replaced_file_that_another_model_still_names()
    {
        using var lib = new TestLibrary();
        var shared = lib.CopyFixture(Stories.Fixture, "llama-cpp/shared/shared.gguf");
        await Import(lib, shared, id: "first", mode: ImportMode.InPlace);
        await Import(lib, shared, id: "second", mode: ImportMode.InPlace);

        await Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "other.gguf")), id: "first", force: true);

        Assert.True(File.Exists(shared));
        Assert.Equal(ModelStatus.Local, (await lib.Service.GetAsync("second", CancellationToken.None)).Status);
    }

    [Fact]
    public async Task A_failed_Force_import_keeps_the_earlier_file_and_row()
    {
        using var lib = new TestLibrary();
        lib.AddCatalog(new { id = "right", provider = "llama-cpp", download_url = "https://example.org/a.gguf", size = Stories.Size, checksum = Stories.Checksum });
        var first = await Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf")), id: "right");
        var altered = WriteAlteredStories(lib, Path.Combine(lib.Outside, "altered.gguf"));

        var e = await Assert.ThrowsAsync<ValidationException>(() => Import(lib, altered, id: "right", force: true));

        Assert.Equal(ErrorIds.ChecksumMismatch, e.ErrorId);
        Assert.True(File.Exists(first.LocalPath));
        Assert.Equal(Stories.Checksum, await Sha256Checksum.OfFileAsync(first.LocalPath!, CancellationToken.None));
        var row = lib.Service.Models.Get("right")!;
        Assert.Equal(first.LocalPath, row.LocalPath);
        Assert.Equal(ModelStatus.Local, row.Status);
        Assert.Equal(new[] { "stories260K.gguf" }, Directory.GetFiles(Path.GetDirectoryName(first.LocalPath!)!).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Bad_ids_and_bad_files_are_refused_and_nothing_is_copied_or_registered()
    {
        using var lib = new TestLibrary();
        var good = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));
        Assert.Equal(ErrorIds.InvalidModelId, (await Assert.ThrowsAsync<ModelLibraryException>(() => Import(lib, good, id: "../escape"))).ErrorId);

        var truncated = lib.Write(Path.Combine(lib.Outside, "truncated.gguf"), File.ReadAllBytes(Fixtures.File("gguf", "stories260K.gguf"))[..50_000]);
        Assert.Equal(ErrorIds.InvalidModelFile, (await Assert.ThrowsAsync<ValidationException>(() => Import(lib, truncated))).ErrorId);

        var empty = lib.Write(Path.Combine(lib.Outside, "empty.gguf"), Array.Empty<byte>());
        Assert.Equal(ErrorIds.InvalidModelFile, (await Assert.ThrowsAsync<ValidationException>(() => Import(lib, empty))).ErrorId);

        var evil = lib.CopyFixture("pickle/malicious1.zip", Path.Combine(lib.Outside, "pytorch_model.bin"));
        Assert.Equal(ErrorIds.UnsafeModelContent, (await Assert.ThrowsAsync<ModelSecurityException>(() => Import(lib, evil))).ErrorId);

        Assert.Empty(lib.Service.Models.List());
        Assert.False(Directory.Exists(lib.Configuration.LlamaCppModelsDirectory) && Directory.EnumerateFileSystemEntries(lib.Configuration.LlamaCppModelsDirectory).Any());
        Assert.False(Directory.Exists(lib.Configuration.TransformersModelsDirectory) && Directory.EnumerateFileSystemEntries(lib.Configuration.TransformersModelsDirectory).Any());
    }

    [Fact]
    public async Task A_file_claiming_a_catalog_id_must_be_that_catalogs_file()
    {
        using var lib = new TestLibrary();
        lib.AddCatalog(
            new { id = "right", provider = "llama-cpp", download_url = "https://example.org/a.gguf", size = Stories.Size, checksum = Stories.Checksum },
            new { id = "wrong-hash", provider = "llama-cpp", download_url = "https://example.org/b.gguf", size = Stories.Size, checksum = "sha256:" + new string('2', 64) });
        var source = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));

        var e = await Assert.ThrowsAsync<ValidationException>(() => Import(lib, source, id: "wrong-hash"));
        Assert.Equal(ErrorIds.ChecksumMismatch, e.ErrorId);
        Assert.False(Directory.Exists(Path.Combine(lib.Configuration.LlamaCppModelsDirectory, "wrong-hash")) &&
                     Directory.EnumerateFileSystemEntries(Path.Combine(lib.Configuration.LlamaCppModelsDirectory, "wrong-hash")).Any());

        // 'tinyllama-1.1b-chat-q4' declares 668788096 bytes: a 1 MB file is not it.
        Assert.Equal(ErrorIds.InvalidModelFile, (await Assert.ThrowsAsync<ValidationException>(() => Import(lib, source, id: "tinyllama-1.1b-chat-q4"))).ErrorId);

        var model = await Import(lib, source, id: "right");
        Assert.NotEqual("imported", model.Source); // the catalog's source is kept
        Assert.Equal(Stories.Checksum, model.Checksum);
        Assert.Equal(ModelStatus.Local, model.Status);
    }

    [Fact]
    public async Task Move_takes_the_file_and_InPlace_leaves_it_where_it_is()
    {
        using var lib = new TestLibrary();
        var moved = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "moved.gguf"));
        var m = await Import(lib, moved, mode: ImportMode.Move);
        Assert.False(File.Exists(moved));
        Assert.True(File.Exists(m.LocalPath));

        var kept = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "kept.gguf"));
        var k = await Import(lib, kept, mode: ImportMode.InPlace);
        Assert.Equal(kept, k.LocalPath);
        Assert.True(lib.Service.IsOutsideLibrary(k));
        Assert.DoesNotContain(kept, lib.Service.PathsToRemove(k));

        // Removing an in-place model outside the library unregisters it and keeps the file.
        Assert.Null(await lib.Service.RemoveAsync(k, CancellationToken.None));
        Assert.True(File.Exists(kept));
        Assert.Null(lib.Service.Models.Get("kept"));
    }

    [Fact]
    public async Task A_sharded_safetensors_folder_is_imported_whole_with_a_checksum_per_shard()
    {
        using var lib = new TestLibrary();
        var folder = Path.Combine(lib.Outside, "My Sharded Model");
        lib.Write(Path.Combine(folder, "model-00001-of-00002.safetensors"), SafetensorsBuilder.Build(null, ("a", "F32", new long[] { 4, 4 })));
        lib.Write(Path.Combine(folder, "model-00002-of-00002.safetensors"), SafetensorsBuilder.Build(null, ("b", "F16", new long[] { 8 })));
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
            """{"metadata": {"total_size": 80}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}""");
        File.WriteAllText(Path.Combine(folder, "config.json"), """{"model_type": "test"}""");

        var model = await Import(lib, folder);
        Assert.Equal("my-sharded-model", model.Id);
        Assert.Equal("transformers", model.Provider);
        Assert.Equal("safetensors", model.Format);
        Assert.Null(model.Checksum);
        var target = Path.Combine(lib.Configuration.TransformersModelsDirectory, "my-sharded-model");
        Assert.Equal(Path.Combine(target, "model.safetensors.index.json"), model.LocalPath);
        Assert.True(File.Exists(Path.Combine(target, "config.json")));
        Assert.Equal(24, model.Metadata.ParameterCount);
        var perFile = ModelValidator.FileChecksums(lib.Service.Models.Get(model.Id));
        Assert.NotNull(perFile);
        Assert.Equal(new[] { "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json" }, perFile!.Keys.Order());

        var tester = new LibraryModelTester(lib.Service);
        Assert.True((await tester.TestAsync(model.Id, CancellationToken.None)).Passed);
        // A shard changed after import is caught by its recorded checksum.
        var shard = Path.Combine(target, "model-00002-of-00002.safetensors");
        var bytes = File.ReadAllBytes(shard);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(shard, bytes);
        var result = await tester.TestAsync(model.Id, CancellationToken.None);
        Assert.Equal(ErrorIds.ChecksumMismatch, result["Checksum"]!.ErrorId);
    }

    [Fact]
    public async Task Any_part_of_a_split_gguf_imports_the_whole_set()
    {
        using var lib = new TestLibrary();
        var parts = SplitSet.Write(lib.Outside, "big-model-q8_0", 3);
        var model = await Import(lib, parts[1]);
        Assert.Equal("big-model-q8_0", model.Id);
        var target = Path.Combine(lib.Configuration.LlamaCppModelsDirectory, "big-model-q8_0");
        Assert.Equal(parts.Select(Path.GetFileName).Order(), Directory.GetFiles(target).Select(Path.GetFileName).Order());
        Assert.Equal(Path.Combine(target, Path.GetFileName(parts[0])), model.LocalPath);
    }

    [Theory]
    [InlineData("/x/stories260K.gguf", "stories260k")]
    [InlineData("/x/Llama 3 (8B).Q4_K_M.gguf", "llama-3-8b-.q4_k_m")]
    [InlineData("/x/tiny-q8_0-00001-of-00003.gguf", "tiny-q8_0")]
    [InlineData("/x/Qwen2-0.5B/model.safetensors", "qwen2-0.5b")]
    [InlineData("/x/phi/model.safetensors.index.json", "phi")]
    [InlineData("/x/phi/model-00001-of-00002.safetensors", "phi")]
    [InlineData("/x/gpt2/pytorch_model.bin", "gpt2")]
    [InlineData("/x/___.gguf", "imported-model")]
    public void Ids_are_suggested_from_file_or_folder_names(string path, string expected) => Assert.Equal(expected, ModelImporter.SuggestId(path));
}
