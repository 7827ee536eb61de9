using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// GGUF reader against real files (all in tests/fixtures/gguf/, written by llama.cpp's converters; none built here).
/// Every expected value is a fact stated in tests/fixtures/MANIFEST.md.
/// </summary>
public class GgufFixtureTests
{
    public static TheoryData<string, int, int, string, string, uint?, string, string?, long, long> VocabFiles => new()
    {
        // file, tensors, kvs, architecture, name, file_type, tokenizer model, tokenizer pre, tokens, size (= header end)
        { "ggml-vocab-bert-bge.gguf", 0, 20, "bert", "bert-bge", 1u, "bert", "bert-bge", 30522, 627549 },
        { "ggml-vocab-phi-3.gguf", 0, 26, "phi3", "Phi3", 1u, "llama", "default", 32064, 726019 },
        { "ggml-vocab-gpt-2.gguf", 0, 16, "gpt2", "gpt-2", 1u, "gpt2", "gpt-2", 50257, 1766807 },
        { "ggml-vocab-gpt-neox.gguf", 0, 17, "gptneox", "gpt-neox-20b", null, "gpt2", null, 50432, 1771431 },
        { "ggml-vocab-falcon.gguf", 0, 18, "falcon", "Falcon", 1u, "gpt2", "falcon", 65024, 2287728 },
    };

    [Theory]
    [MemberData(nameof(VocabFiles))]
    public void VocabOnlyFilesMatchTheManifest(string file, int tensors, int kvs, string arch, string name, uint? fileType,
        string tokenizer, string? pre, long tokens, long size)
    {
        var gguf = GgufReader.Read(Fixtures.File("gguf", file));

        Assert.Equal(3u, gguf.Version);
        Assert.False(gguf.IsBigEndian);
        Assert.Equal(tensors, gguf.TensorCount);
        Assert.Equal(kvs, gguf.KeyValueCount);
        Assert.Equal(arch, gguf.Architecture);
        Assert.Equal(name, gguf.Name);
        Assert.Equal(fileType, gguf.FileType);
        Assert.Equal(fileType is null ? null : "F16", gguf.Quantization);
        Assert.Equal(tokenizer, gguf.TokenizerModel);
        Assert.Equal(pre, gguf.GetString("tokenizer.ggml.pre"));
        Assert.Equal(tokens, gguf.TokenCount);
        Assert.Equal(size, gguf.FileSize);
        Assert.Equal(size, gguf.HeaderEnd);
        Assert.Equal(0, gguf.ParameterCount);
        Assert.Null(gguf.TensorDataEnd);

        // The token list is counted, not materialised.
        var tokenList = gguf.Metadata["tokenizer.ggml.tokens"];
        Assert.Equal(GgufValueType.String, tokenList.ElementType);
        Assert.Equal(GgufReader.ArrayPreviewLength, tokenList.Items.Count);
        Assert.False(tokenList.IsFullyRead);
    }

    [Fact]
    public void Stories260KMatchesTheManifest()
    {
        var gguf = GgufReader.Read(Fixtures.File("gguf", "stories260K.gguf"));

        Assert.Equal(3u, gguf.Version);
        Assert.Equal(48, gguf.TensorCount);
        Assert.Equal(19, gguf.KeyValueCount);
        Assert.Equal("llama", gguf.Architecture);
        Assert.Equal("llama", gguf.Name);
        Assert.Null(gguf.FileType);
        Assert.Equal("llama", gguf.TokenizerModel);
        Assert.Null(gguf.GetString("tokenizer.ggml.pre"));
        Assert.Equal(512, gguf.TokenCount);
        Assert.False(gguf.Metadata.ContainsKey("general.alignment"));
        Assert.Equal(32u, gguf.Alignment);
        Assert.True(gguf.Metadata.ContainsKey("tokenizer.ggml.seperator_token_id")); // the converter's own spelling

        Assert.All(gguf.Tensors, t => Assert.Equal("F32", t.TypeName));
        Assert.Equal(292800, gguf.ParameterCount);
        Assert.Equal("F32", gguf.Quantization); // no general.file_type: the tensors' type
        Assert.Equal(14152, gguf.HeaderEnd);
        Assert.Equal(14176, gguf.DataOffset);
        Assert.Equal(1185376, gguf.TensorDataEnd);
        Assert.Equal(1185376, gguf.FileSize);

        Assert.Equal("token_embd.weight", gguf.Tensors[0].Name);
        Assert.Equal(new long[] { 64, 512 }, gguf.Tensors[0].Dimensions);
        Assert.Equal("output_norm.weight", gguf.Tensors[1].Name);
        Assert.Equal(new long[] { 64 }, gguf.Tensors[1].Dimensions);
        Assert.Equal("output.weight", gguf.Tensors[2].Name);
        Assert.Equal(new long[] { 64, 512 }, gguf.Tensors[2].Dimensions);
    }

    [Fact]
    public void Stories260KThroughTheInspectorFillsModelMetadata()
    {
        var info = ModelFileInspector.Inspect(Fixtures.File("gguf", "stories260K.gguf"));
        Assert.Equal(ModelFileFormat.Gguf, info.Format);
        Assert.Equal("gguf", info.FormatName);
        Assert.Equal(1, info.PartCount);
        Assert.Equal(1185376, info.TotalSize);

        var metadata = ModelFileInspector.ToMetadata(info);
        Assert.Equal(292800, metadata.ParameterCount);
        Assert.Equal("292.8K", metadata.Parameters);
        Assert.Equal("llama", metadata.Architecture);
        Assert.Equal("F32", metadata.Quantization);
        Assert.Equal(48, metadata.TensorCount);
        Assert.Equal("GGUF v3", metadata.FileFormatVersion);
        Assert.Equal("llama", metadata.TokenizerModel);
        Assert.False(metadata.HasChatTemplate);
        // The llama2c converter writes the llama.* hyperparameters; the tensor shapes pin the embedding length.
        Assert.Equal(64, metadata.EmbeddingLength);
        Assert.NotNull(metadata.BlockCount);
        Assert.NotNull(metadata.ContextLength);
        Assert.NotNull(metadata.HeadCount);
    }

    [Fact]
    public void VocabFileThroughTheInspector()
    {
        var info = ModelFileInspector.Inspect(Fixtures.File("gguf", "ggml-vocab-falcon.gguf"));
        Assert.Equal("falcon", info.Architecture);
        Assert.Equal("Falcon", info.Name);
        Assert.Equal(1u, info.FileType);
        Assert.Equal("F16", info.Quantization);
        Assert.Equal(0, info.TensorCount);
        Assert.Equal(0, info.ParameterCount);
        Assert.Null(info.ExpectedMinimumFileSize);
        Assert.True(info.IsSafe);
    }
}
