using ModelLibrary.Library;
using ModelLibrary.Tests.Formats;

namespace ModelLibrary.Tests.Validation;

/// <summary>
/// Get-ModelMetadata's Core: the metadata cache and the catalog/file merge. Real files: stories260K.gguf and
/// model.safetensors (tests/fixtures); catalogs, rows and a blocked cache folder are built here.
/// </summary>
public class MetadataTests
{
    [Fact]
    public void Headers_are_cached_and_read_again_when_the_file_changes()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf"));
        var reader = new ModelMetadataReader(lib.Service);

        var first = reader.ReadFile(path, CancellationToken.None);
        Assert.False(first.FromCache);
        Assert.Equal("llama", first.Architecture);
        Assert.Equal(292800, first.ParameterCount);
        Assert.Equal("292.8K", first.Parameters);
        Assert.Equal(2048, first.ContextLength);
        Assert.Equal("GGUF v3", first.FormatVersion);
        Assert.True(File.Exists(reader.Cache.EntryPath(path)));
        Assert.StartsWith(lib.Configuration.MetadataDirectory, reader.Cache.EntryPath(path));

        var second = reader.ReadFile(path, CancellationToken.None);
        Assert.True(second.FromCache);
        Assert.Equal(first.ParameterCount, second.ParameterCount);
        Assert.Equal(first.Metadata.Architecture, second.Metadata.Architecture);

        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-5));
        Assert.False(reader.ReadFile(path, CancellationToken.None).FromCache);
        Assert.True(reader.ReadFile(path, CancellationToken.None).FromCache);

        // Same path, other content: the size changed, so the header is read again.
        lib.CopyFixture("safetensors/model.safetensors", path);
        var replaced = reader.ReadFile(path, CancellationToken.None);
        Assert.False(replaced.FromCache);
        Assert.Equal("safetensors", replaced.Format);
    }

    [Fact]
    public void A_corrupt_cache_entry_is_ignored_and_replaced()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, "llama-cpp/stories260K.gguf");
        var reader = new ModelMetadataReader(lib.Service);
        reader.ReadFile(path, CancellationToken.None);
        File.WriteAllText(reader.Cache.EntryPath(path), "{ not json");
        Assert.False(reader.ReadFile(path, CancellationToken.None).FromCache);
        Assert.True(reader.ReadFile(path, CancellationToken.None).FromCache);
    }

    [Fact]
    public void A_cache_that_cannot_be_written_never_fails_the_read()
    {
        using var lib = new TestLibrary();
        var path = lib.CopyFixture(Stories.Fixture, "llama-cpp/stories260K.gguf");
        File.WriteAllText(lib.Configuration.MetadataDirectory, "a file where the cache folder should be");
        var reader = new ModelMetadataReader(lib.Service);
        var notes = new List<string>();
        var metadata = reader.ReadFile(path, CancellationToken.None, notes.Add);
        Assert.Equal("llama", metadata.Architecture);
        Assert.Single(notes);
        Assert.Contains("could not be written", notes[0]);
    }

    [Fact]
    public void An_unknown_or_broken_file_is_InvalidModelFile()
    {
        using var lib = new TestLibrary();
        var reader = new ModelMetadataReader(lib.Service);
        var text = lib.Write("notes.txt", "hello"u8.ToArray());
        Assert.Equal(ErrorIds.InvalidModelFile, Assert.Throws<ValidationException>(() => reader.ReadFile(text, CancellationToken.None)).ErrorId);
        var empty = lib.Write("empty.gguf", Array.Empty<byte>());
        Assert.Equal(ErrorIds.InvalidModelFile, Assert.Throws<ValidationException>(() => reader.ReadFile(empty, CancellationToken.None)).ErrorId);
    }

    [Fact]
    public async Task A_library_model_merges_catalog_and_file_and_names_the_differences()
    {
        using var lib = new TestLibrary();
        lib.AddCatalog(new
        {
            id = "stories-catalog", name = "Stories", provider = "llama-cpp", download_url = "https://example.org/stories260K.gguf",
            metadata = new { parameters = "300K", quantization = "Q4_K_M", context_length = 4096, architecture = "llama", license = "MIT" },
        });
        lib.CopyFixture(Stories.Fixture, "llama-cpp/stories-catalog/stories260K.gguf");
        var reader = new ModelMetadataReader(lib.Service);

        var merged = await reader.ReadModelAsync("stories-catalog", CancellationToken.None);
        Assert.Equal(MetadataSource.Merged, merged.MetadataSource);
        Assert.Equal("stories-catalog", merged.ModelId);
        Assert.Equal(new[] { "Quantization", "ContextLength" }, merged.Differences.Select(d => d.Field));
        var quantization = merged.Differences[0];
        Assert.Equal("Q4_K_M", quantization.CatalogValue);
        Assert.Equal("F32", quantization.FileValue);
        // The file wins; what only the catalog knows stays.
        Assert.Equal("F32", merged.Metadata.Quantization);
        Assert.Equal(2048, merged.Metadata.ContextLength);
        Assert.Equal(2048, merged.ContextLength);
        Assert.Equal("MIT", merged.Metadata.License);
        Assert.Equal(292800, merged.Metadata.ParameterCount); // 300K vs 292.8K: within rounding, no difference
    }

    [Fact]
    public async Task A_model_without_a_file_gives_its_catalog_metadata()
    {
        using var lib = new TestLibrary();
        var reader = new ModelMetadataReader(lib.Service);
        var catalog = await reader.ReadModelAsync("tinyllama-1.1b-chat-q4", CancellationToken.None);
        Assert.Equal(MetadataSource.Catalog, catalog.MetadataSource);
        Assert.Null(catalog.Path);
        Assert.Equal("Q4_K_M", catalog.Quantization);
        Assert.Equal(668788096, catalog.TotalSize);

        lib.Service.Models.Upsert(new ModelInfo { Id = "gone", Name = "gone", Provider = "llama-cpp", Status = ModelStatus.Local, LocalPath = Path.Combine(lib.Root, "llama-cpp", "gone.gguf") });
        var e = await Assert.ThrowsAsync<ModelLibraryException>(() => reader.ReadModelAsync("gone", CancellationToken.None));
        Assert.Equal(ErrorIds.ModelNotLocal, e.ErrorId);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public async Task Removing_a_model_drops_its_cache_entry()
    {
        using var lib = new TestLibrary();
        var model = await ImportTests.Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf")), id: "mine");
        var kept = await ImportTests.Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "kept.gguf")), id: "kept", mode: ImportMode.InPlace);
        var reader = new ModelMetadataReader(lib.Service);
        await reader.ReadModelAsync("mine", CancellationToken.None);
        await reader.ReadModelAsync("kept", CancellationToken.None);
        Assert.True(File.Exists(reader.Cache.EntryPath(model.LocalPath!)));
        Assert.True(File.Exists(reader.Cache.EntryPath(kept.LocalPath!)));

        await lib.Service.RemoveAsync(model, CancellationToken.None);
        await lib.Service.RemoveAsync(kept, CancellationToken.None);

        Assert.False(File.Exists(reader.Cache.EntryPath(model.LocalPath!)));
        // The file registered in place stays, its entry goes with the model all the same.
        Assert.True(File.Exists(kept.LocalPath));
        Assert.False(File.Exists(reader.Cache.EntryPath(kept.LocalPath!)));
    }

    [Fact]
    public async Task Replacing_a_models_file_under_another_name_drops_the_old_entry()
    {
        using var lib = new TestLibrary();
        var first = await ImportTests.Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "stories260K.gguf")), id: "mine");
        var reader = new ModelMetadataReader(lib.Service);
        await reader.ReadModelAsync("mine", CancellationToken.None);
        Assert.True(File.Exists(reader.Cache.EntryPath(first.LocalPath!)));

        await ImportTests.Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "renamed.gguf")), id: "mine", force: true);

        Assert.False(File.Exists(reader.Cache.EntryPath(first.LocalPath!)));
    }

    [Fact]
    public async Task Replacing_a_models_file_with_one_of_the_same_name_size_and_time_is_read_anew()
    {
        using var lib = new TestLibrary();
        var original = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "a", "stories260K.gguf"));
        await ImportTests.Import(lib, original, id: "mine");
        var reader = new ModelMetadataReader(lib.Service);
        Assert.Equal("llama", (await reader.ReadModelAsync("mine", CancellationToken.None)).Name);

        // general.name is "llama" in the fixture; a five-letter name keeps the size, the copied time keeps the stamp.
        var bytes = File.ReadAllBytes(original);
        var key = System.Text.Encoding.ASCII.GetBytes("general.name");
        var value = bytes.AsSpan().IndexOf(key) + key.Length + 4 + 8; // after the key: u32 value type, u64 string length
        Assert.Equal("llama"u8.ToArray(), bytes[value..(value + 5)]);
        "other"u8.CopyTo(bytes.AsSpan(value));
        var renamed = lib.Write(Path.Combine(lib.Outside, "b", "stories260K.gguf"), bytes);
        File.SetLastWriteTimeUtc(renamed, File.GetLastWriteTimeUtc(original));

        await ImportTests.Import(lib, renamed, id: "mine", force: true);

        var metadata = await reader.ReadModelAsync("mine", CancellationToken.None);
        Assert.False(metadata.FromCache);
        Assert.Equal("other", metadata.Name);
    }

    [Fact]
    public void An_entry_whose_file_is_gone_is_not_served_and_is_deleted()
    {
        using var lib = new TestLibrary();
        var reader = new ModelMetadataReader(lib.Service);
        var asked = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "asked.gguf"));
        var looked = lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "looked-up.gguf"));
        reader.ReadFile(asked, CancellationToken.None);
        reader.ReadFile(looked, CancellationToken.None);
        File.Delete(asked);
        File.Delete(looked);

        Assert.Equal(ErrorIds.InvalidModelFile, Assert.Throws<ValidationException>(() => reader.ReadFile(asked, CancellationToken.None)).ErrorId);
        Assert.False(File.Exists(reader.Cache.EntryPath(asked)));
        Assert.Null(reader.Cache.TryRead(looked));
        Assert.False(File.Exists(reader.Cache.EntryPath(looked)));
    }

    [Fact]
    public async Task A_registered_file_that_is_gone_loses_its_entry_when_its_metadata_is_asked_for()
    {
        using var lib = new TestLibrary();
        var model = await ImportTests.Import(lib, lib.CopyFixture(Stories.Fixture, Path.Combine(lib.Outside, "gone.gguf")), id: "gone", mode: ImportMode.InPlace);
        var reader = new ModelMetadataReader(lib.Service);
        await reader.ReadModelAsync("gone", CancellationToken.None);
        File.Delete(model.LocalPath!);

        var e = await Assert.ThrowsAsync<ModelLibraryException>(() => reader.ReadModelAsync("gone", CancellationToken.None));
        Assert.Equal(ErrorIds.ModelNotLocal, e.ErrorId);
        Assert.False(File.Exists(reader.Cache.EntryPath(model.LocalPath!)));
    }

    [Fact]
    public void An_entry_whose_split_part_is_gone_is_not_served_and_is_deleted()
    {
        using var lib = new TestLibrary();
        var parts = SplitSet.Write(lib.Outside, "split-model", 2);
        var reader = new ModelMetadataReader(lib.Service);
        reader.ReadFile(parts[0], CancellationToken.None);
        Assert.True(reader.ReadFile(parts[0], CancellationToken.None).FromCache);
        File.Delete(parts[1]);

        Assert.Null(reader.Cache.TryRead(parts[0]));
        Assert.False(File.Exists(reader.Cache.EntryPath(parts[0])));
    }

    [Theory]
    [InlineData("1.1B", 1_100_000_000L)]
    [InlineData("7B", 7_000_000_000L)]
    [InlineData("292.8K", 292_800L)]
    [InlineData("135M", 135_000_000L)]
    [InlineData("unknown", null)]
    public void Parameter_labels_parse(string label, long? expected) => Assert.Equal(expected, ModelMetadataReader.ParseParameterLabel(label));
}
