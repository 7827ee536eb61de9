using ModelLibrary.Library;
using ModelLibrary.Tests.Formats;

namespace ModelLibrary.Tests.Validation;

/// <summary>
/// Get-ModelMetadata's Core: the metadata cache and the catalog/file merge. Real files: stories260K.gguf and
/// model.safetensors (shared/fixtures); catalogs, rows and a blocked cache folder are built here.
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

    [Theory]
    [InlineData("1.1B", 1_100_000_000L)]
    [InlineData("7B", 7_000_000_000L)]
    [InlineData("292.8K", 292_800L)]
    [InlineData("135M", 135_000_000L)]
    [InlineData("unknown", null)]
    public void Parameter_labels_parse(string label, long? expected) => Assert.Equal(expected, ModelMetadataReader.ParseParameterLabel(label));
}
