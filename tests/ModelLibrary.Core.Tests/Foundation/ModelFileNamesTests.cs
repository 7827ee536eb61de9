using ModelLibrary.Compatibility;
using ModelLibrary.Downloads;
using ModelLibrary.Formats;
using ModelLibrary.Library;

namespace ModelLibrary.Tests.Foundation;

/// <summary>
/// One vocabulary of model-file names: the catalog, the compatibility estimator, the disk scanner, the importer
/// and the download request read a name the same way, because they all ask <see cref="ModelFileNames"/>.
/// </summary>
public class ModelFileNamesTests
{
    [Theory]
    [InlineData("m.gguf", "gguf")]
    [InlineData("m.GGUF", "gguf")]
    [InlineData("m.ggml", "ggml")]
    [InlineData("m.safetensors", "safetensors")]
    [InlineData("m.bin", "pytorch")]
    [InlineData("m.pt", "pytorch")]
    [InlineData("m.pth", "pytorch")]
    [InlineData("m.ckpt", "pytorch")]
    [InlineData("m.pkl", "pytorch")]
    [InlineData("m.pickle", "pytorch")]
    [InlineData("m.onnx", "onnx")]
    [InlineData("m.txt", null)]
    [InlineData("m", null)]
    public void Every_reader_of_names_gives_the_same_format(string fileName, string? format)
    {
        Assert.Equal(format, ModelFileNames.FormatOf(fileName));
        Assert.Equal(format, ModelFormats.Resolve(new ModelInfo { Id = "m", FileName = fileName }));
        Assert.Equal(format, ModelFormats.Resolve(new ModelInfo { Id = "m", DownloadUrl = "https://example.invalid/x/" + fileName + "?download=true" }));
    }

    [Fact]
    public void The_disk_scanner_finds_every_weight_extension_the_validator_knows()
    {
        using var dir = new TempDirectory();
        foreach (var extension in ModelFileNames.WeightExtensions)
        {
            File.WriteAllBytes(dir.Combine("m" + extension.TrimStart('.') + extension), new byte[] { 1 });
        }

        File.WriteAllText(dir.Combine("notes.txt"), "not a model");
        var found = LocalModelScanner.Scan(dir.Path, ModelFileNames.LlamaCpp).ToList();
        Assert.Equal(ModelFileNames.WeightExtensions.Count, found.Count);
        Assert.All(found, f => Assert.Equal(ModelFileNames.FormatOf(f.Path), f.Format));
    }

    [Theory]
    [InlineData("Llama 3 (8B).Q4_K_M.gguf")]
    [InlineData("stories260K.gguf")]
    [InlineData("tiny-q8_0-00002-of-00003.gguf")]
    public void The_scanner_and_the_importer_suggest_the_same_id_for_a_file(string fileName)
    {
        using var dir = new TempDirectory();
        var path = dir.Combine(fileName);
        File.WriteAllBytes(path, new byte[] { 1 });
        var scanned = Assert.Single(LocalModelScanner.Scan(dir.Path, ModelFileNames.LlamaCpp));
        Assert.Equal(ModelImporter.SuggestId(path), scanned.SuggestedId);
    }

    [Fact]
    public void Split_parts_are_one_model_to_the_scanner_and_one_set_to_the_gguf_reader()
    {
        using var dir = new TempDirectory();
        var parts = Enumerable.Range(1, 3).Select(i => ModelFileNames.PartName(dir.Combine("big"), i, 3, ".gguf")).ToList();
        parts.ForEach(p => File.WriteAllBytes(p, new byte[] { 1 }));

        var scanned = Assert.Single(LocalModelScanner.Scan(dir.Path, ModelFileNames.LlamaCpp));
        Assert.Equal("big", scanned.SuggestedId);
        Assert.Equal(parts[0], scanned.Path);
        Assert.True(GgufSplitSet.TryParseName(parts[1], out var prefix, out var number, out var count));
        Assert.Equal((dir.Combine("big"), 2, 3), (prefix, number, count));
        Assert.Equal(parts[2], GgufSplitSet.PartPath(prefix, 3, 3));
        Assert.Equal(parts, GgufSplitSet.Find(parts[0])!.Parts);

        // Safetensors shards follow the same naming; only a .gguf name is a GGUF part.
        Assert.True(ModelFileNames.TryParsePart("/m/model-00001-of-00002.safetensors", out _, out var shard, out var shards));
        Assert.Equal((1, 2), (shard, shards));
        Assert.False(GgufSplitSet.TryParseName("/m/model-00001-of-00002.safetensors", out _, out _, out _));
        Assert.False(ModelFileNames.TryParsePart("/m/model-00003-of-00002.gguf", out _, out _, out _));
    }

    [Theory]
    [InlineData("https://example.invalid/repo/resolve/main/model%20q4.gguf?download=true", "model q4.gguf")]
    [InlineData("https://example.invalid/files/", "files")]
    [InlineData("https://example.invalid/", "fallback.gguf")]
    public void The_catalog_and_a_download_take_the_same_file_name_from_a_url(string url, string expected)
    {
        Assert.Equal(expected, ModelFileNames.FromUrl(url, "fallback.gguf"));
        var request = DownloadRequest.FromModel(new ModelInfo { Id = "fallback", Format = "gguf", Provider = "llama-cpp", DownloadUrl = url });
        Assert.Equal(expected, request.FileName);
    }

    [Theory]
    [InlineData("gguf", "llama-cpp")]
    [InlineData("safetensors", "transformers")]
    [InlineData("PyTorch", "transformers")]
    [InlineData("onnx", null)]
    [InlineData(null, null)]
    public void A_format_has_one_default_provider(string? format, string? provider) =>
        Assert.Equal(provider, ModelFileNames.DefaultProvider(format));
}
