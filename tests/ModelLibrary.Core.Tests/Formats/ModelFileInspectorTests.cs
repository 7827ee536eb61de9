using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// The entry point: format detection by content, the ModelMetadata it fills, and the parameter label. Uses copies
/// of real fixtures (tests/fixtures) under misleading names, and small files built here.
/// </summary>
public class ModelFileInspectorTests
{
    [Theory]
    [InlineData("gguf/stories260K.gguf", "weights.safetensors", ModelFileFormat.Gguf)]
    [InlineData("safetensors/model.safetensors", "model.gguf", ModelFileFormat.Safetensors)]
    [InlineData("pickle/benign0_v0.pkl", "model.gguf", ModelFileFormat.PyTorch)]
    [InlineData("pickle/pytorch_model.bin", "model.safetensors", ModelFileFormat.PyTorch)]
    [InlineData("pickle/candle/test.pt", "model.gguf", ModelFileFormat.PyTorch)]
    public void FormatComesFromTheBytesNotTheName(string fixture, string name, ModelFileFormat expected)
    {
        using var dir = new TempDirectory();
        string path = dir.File(name);
        File.Copy(Fixtures.File(fixture.Split('/')), path);
        Assert.Equal(expected, ModelFileInspector.DetectFormat(path));
        Assert.Equal(expected, ModelFileInspector.Inspect(path).Format);
    }

    [Theory]
    [InlineData("hello, world\n")]
    [InlineData("I am a text file.\n.")]
    [InlineData("{\"not\": \"an index\"}")]
    [InlineData("\u0001\u0002\u0003")]
    public void OtherContentIsUnknown(string content)
    {
        using var dir = new TempDirectory();
        string path = dir.Write("model.gguf", System.Text.Encoding.UTF8.GetBytes(content));
        var info = ModelFileInspector.Inspect(path);
        Assert.Equal(ModelFileFormat.Unknown, info.Format);
        Assert.Equal("unknown", info.FormatName);
        Assert.Null(info.ParameterCount);
    }

    [Fact]
    public void EmptyFileIsInvalidModelFile()
    {
        using var dir = new TempDirectory();
        Assert.Contains("empty", Assertions.InvalidFile(() => ModelFileInspector.Inspect(dir.Write("empty.gguf", Array.Empty<byte>()))).Message);
    }

    [Fact]
    public void BigEndianGgufIsReadAndSaysSo()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("be.gguf", new GgufBuilder { BigEndian = true }
            .String("general.architecture", "llama")
            .Value("llama.block_count", GgufValueType.UInt32, 2u)
            .Tensor("w", 0, 16, 2)
            .Build());
        var info = ModelFileInspector.Inspect(path);
        Assert.True(info.IsBigEndian);
        Assert.Equal(2, info.BlockCount);
        Assert.Equal(32, info.ParameterCount);
    }

    [Theory]
    [InlineData(0, "0")]
    [InlineData(999, "999")]
    [InlineData(1000, "1K")]
    [InlineData(16080, "16.1K")]
    [InlineData(292800, "292.8K")]
    [InlineData(999_950, "1M")]
    [InlineData(124_439_808, "124.4M")]
    [InlineData(1_100_048_384, "1.1B")]
    [InlineData(7_000_000_000, "7B")]
    [InlineData(1_500_000_000_000, "1.5T")]
    public void ParameterLabel(long count, string expected) => Assert.Equal(expected, ModelFileInspector.FormatParameterCount(count));

    [Fact]
    public void ApplyToKeepsCatalogValuesTheFileLacks()
    {
        var metadata = new ModelMetadata { ContextLength = 2048, License = "MIT", Architecture = "mlp", Parameters = "0.4K" };
        var info = ModelFileInspector.Inspect(Fixtures.File("safetensors", "model.safetensors"));
        ModelFileInspector.ApplyTo(info, metadata);

        Assert.Equal(2048, metadata.ContextLength);
        Assert.Equal("MIT", metadata.License);
        Assert.Equal("mlp", metadata.Architecture);
        Assert.Equal(430, metadata.ParameterCount);
        Assert.Equal("430", metadata.Parameters);
        Assert.Equal("F32", metadata.Quantization);
        Assert.Equal(4, metadata.TensorCount);
    }

    [Fact]
    public void GgufValuesFillEveryMetadataField()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("m.gguf", new GgufBuilder()
            .String("general.architecture", "mixtral")
            .Value("general.file_type", GgufValueType.UInt32, 17u)
            .Value("mixtral.context_length", GgufValueType.UInt64, 32768ul)
            .Value("mixtral.embedding_length", GgufValueType.UInt32, 4096u)
            .Value("mixtral.block_count", GgufValueType.UInt32, 32u)
            .Value("mixtral.attention.head_count", GgufValueType.UInt32, 32u)
            .Value("mixtral.attention.head_count_kv", GgufValueType.UInt32, 8u)
            .Value("mixtral.expert_count", GgufValueType.UInt32, 8u)
            .String("tokenizer.ggml.model", "llama")
            .String("tokenizer.chat_template", "{{ messages }}")
            .Tensor("w", 14, 256, 4)
            .Build());
        var m = ModelFileInspector.ToMetadata(ModelFileInspector.Inspect(path));

        Assert.Equal("mixtral", m.Architecture);
        Assert.Equal("Q5_K_M", m.Quantization);
        Assert.Equal(32768, m.ContextLength);
        Assert.Equal(4096, m.EmbeddingLength);
        Assert.Equal(32, m.BlockCount);
        Assert.Equal(32, m.HeadCount);
        Assert.Equal(8, m.HeadCountKv);
        Assert.Equal(8, m.ExpertCount);
        Assert.Equal("llama", m.TokenizerModel);
        Assert.True(m.HasChatTemplate);
        Assert.Equal(1, m.TensorCount);
        Assert.Equal(1024, m.ParameterCount);
        Assert.Equal("1K", m.Parameters);
        Assert.Equal("GGUF v3", m.FileFormatVersion);
    }
}
