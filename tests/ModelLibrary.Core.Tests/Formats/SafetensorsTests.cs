using System.Text.Json;
using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// safetensors reader. Real files (written by the official safetensors library; MANIFEST.md gives their facts):
/// tests/fixtures/safetensors/mel_filters, voices, mixed and model.safetensors. Built here with
/// <see cref="SafetensorsBuilder"/>: sharded models with an index, and every hostile header.
/// </summary>
public class SafetensorsTests
{
    private static SafetensorsFile Read(byte[] bytes) => SafetensorsReader.Read(new MemoryStream(bytes), "built.safetensors");

    // ---- real fixtures ----

    [Fact]
    public void MelFilters()
    {
        var file = SafetensorsReader.Read(Fixtures.File("safetensors", "mel_filters.safetensors"));
        Assert.Equal(72, file.HeaderLength);
        Assert.Null(file.Metadata);
        var t = Assert.Single(file.Tensors);
        AssertTensor(t, "mel_80", "F32", new long[] { 80, 201 }, 0, 64320);
        Assert.Equal(16080, file.ParameterCount);
        Assert.Equal(64400, file.DataEnd);
        Assert.Equal(64400, file.FileSize);
    }

    [Fact]
    public void Voices()
    {
        var file = SafetensorsReader.Read(Fixtures.File("safetensors", "voices.safetensors"));
        Assert.Equal(144, file.HeaderLength);
        Assert.Null(file.Metadata);
        Assert.Equal(2, file.Tensors.Count);
        AssertTensor(file.Tensors.Single(t => t.Name == "mask"), "mask", "U8", new long[] { 1, 982, 33 }, 259248, 291654);
        AssertTensor(file.Tensors.Single(t => t.Name == "tokens"), "tokens", "I64", new long[] { 1, 982, 33 }, 0, 259248);
        Assert.Equal(64812, file.ParameterCount);
        Assert.Equal(291806, file.DataEnd);
        Assert.Equal(291806, file.FileSize);
    }

    [Fact]
    public void Mixed()
    {
        var file = SafetensorsReader.Read(Fixtures.File("safetensors", "mixed.safetensors"));
        Assert.Equal(200, file.HeaderLength);
        Assert.Null(file.Metadata);
        Assert.Equal(3, file.Tensors.Count);
        AssertTensor(file.Tensors.Single(t => t.Name == "attention"), "attention", "F32", new long[] { 2, 3 }, 0, 24);
        AssertTensor(file.Tensors.Single(t => t.Name == "embedding"), "embedding", "F32", new long[] { 2, 2 }, 24, 40);
        AssertTensor(file.Tensors.Single(t => t.Name == "zeros"), "zeros", "F32", new long[] { 2, 3, 4, 5 }, 40, 520);
        Assert.Equal(130, file.ParameterCount);
        Assert.Equal(728, file.DataEnd);
    }

    [Fact]
    public void ModelWithMetadata()
    {
        var file = SafetensorsReader.Read(Fixtures.File("safetensors", "model.safetensors"));
        Assert.Equal(320, file.HeaderLength);
        Assert.Equal(new Dictionary<string, string> { ["version"] = "1.0", ["git_tag"] = "v1.45" }, file.Metadata);
        Assert.Equal(4, file.Tensors.Count);
        AssertTensor(file.Tensors.Single(t => t.Name == "fc1.bias"), "fc1.bias", "F32", new long[] { 20 }, 0, 80);
        AssertTensor(file.Tensors.Single(t => t.Name == "fc1.weight"), "fc1.weight", "F32", new long[] { 20, 10 }, 80, 880);
        AssertTensor(file.Tensors.Single(t => t.Name == "fc2.bias"), "fc2.bias", "F32", new long[] { 10 }, 880, 920);
        AssertTensor(file.Tensors.Single(t => t.Name == "fc2.weight"), "fc2.weight", "F32", new long[] { 10, 20 }, 920, 1720);
        Assert.Equal(430, file.ParameterCount);
        Assert.Equal(2048, file.FileSize);
        Assert.Equal(1720 + 8 + 320, file.DataEnd);
    }

    [Theory]
    [InlineData("mel_filters.safetensors", 16080, "16.1K")]
    [InlineData("voices.safetensors", 64812, "64.8K")]
    [InlineData("mixed.safetensors", 130, "130")]
    [InlineData("model.safetensors", 430, "430")]
    public void InspectorReportsFixtures(string file, long parameters, string label)
    {
        var info = ModelFileInspector.Inspect(Fixtures.File("safetensors", file));
        Assert.Equal(ModelFileFormat.Safetensors, info.Format);
        Assert.Equal("safetensors", info.FormatName);
        Assert.Equal(parameters, info.ParameterCount);
        var metadata = ModelFileInspector.ToMetadata(info);
        Assert.Equal(label, metadata.Parameters);
        Assert.Equal("safetensors", metadata.FileFormatVersion);
    }

    private static void AssertTensor(SafetensorsTensorInfo t, string name, string dtype, long[] shape, long begin, long end)
    {
        Assert.Equal(name, t.Name);
        Assert.Equal(dtype, t.DType);
        Assert.Equal(shape, t.Shape);
        Assert.Equal(begin, t.DataBegin);
        Assert.Equal(end, t.DataEnd);
    }

    // ---- built files ----

    [Fact]
    public void BuiltFileWithSeveralDtypes()
    {
        var file = Read(SafetensorsBuilder.Build(new Dictionary<string, string> { ["format"] = "pt" },
            ("a", "BF16", new long[] { 3, 4 }), ("b", "I32", new long[] { 5 }), ("scalar", "F64", Array.Empty<long>()), ("empty", "F32", new long[] { 0, 7 })));
        Assert.Equal("pt", file.Metadata!["format"]);
        Assert.Equal(12 + 5 + 1 + 0, file.ParameterCount);
        Assert.Equal("BF16", file.DominantDType);
    }

    [Fact]
    public void ShardedModelIsOneModel()
    {
        using var dir = new TempDirectory();
        dir.Write("model-00001-of-00002.safetensors", SafetensorsBuilder.Build(new Dictionary<string, string> { ["format"] = "pt" },
            ("embed.weight", "F16", new long[] { 100, 16 }), ("layer.0.weight", "F16", new long[] { 16, 16 })));
        dir.Write("model-00002-of-00002.safetensors", SafetensorsBuilder.Build(null,
            ("layer.1.weight", "F16", new long[] { 16, 16 }), ("lm_head.weight", "F16", new long[] { 100, 16 })));
        string index = dir.Write("model.safetensors.index.json", IndexJson(new()
        {
            ["embed.weight"] = "model-00001-of-00002.safetensors",
            ["layer.0.weight"] = "model-00001-of-00002.safetensors",
            ["layer.1.weight"] = "model-00002-of-00002.safetensors",
            ["lm_head.weight"] = "model-00002-of-00002.safetensors",
        }, totalSize: 2 * (1600 + 256) * 2));

        var model = SafetensorsReader.ReadIndex(index);
        Assert.True(model.IsSharded);
        Assert.Equal(2, model.Shards.Count);
        Assert.Equal(4, model.TensorCount);
        Assert.Equal(2 * (1600 + 256), model.ParameterCount);
        Assert.Equal(7424, model.DeclaredTotalSize);

        // The index, or any shard, inspects as the whole model.
        foreach (var path in new[] { index, dir.File("model-00002-of-00002.safetensors") })
        {
            var info = ModelFileInspector.Inspect(path);
            Assert.Equal(ModelFileFormat.Safetensors, info.Format);
            Assert.Equal(2, info.PartCount);
            Assert.Equal(4, info.TensorCount);
            Assert.Equal(3712, info.ParameterCount);
            Assert.Equal("F16", info.Quantization);
            Assert.Equal("pt", info.Metadata!["format"]);
        }
        Assert.Equal(ModelFileFormat.Safetensors, ModelFileInspector.DetectFormat(index));
    }

    [Fact]
    public void IndexWithAMissingShard()
    {
        using var dir = new TempDirectory();
        string index = dir.Write("model.safetensors.index.json", IndexJson(new() { ["w"] = "model-00001-of-00002.safetensors" }));
        Assert.Contains("does not exist", Assertions.InvalidFile(() => SafetensorsReader.ReadIndex(index)).Message);
    }

    [Fact]
    public void IndexMappingATensorToTheWrongShard()
    {
        using var dir = new TempDirectory();
        dir.Write("a.safetensors", SafetensorsBuilder.Build(null, ("x", "F32", new long[] { 2 })));
        dir.Write("b.safetensors", SafetensorsBuilder.Build(null, ("y", "F32", new long[] { 2 })));
        string index = dir.Write("model.safetensors.index.json", IndexJson(new() { ["x"] = "b.safetensors", ["y"] = "b.safetensors" }));
        Assertions.InvalidFile(() => SafetensorsReader.ReadIndex(index));
    }

    [Theory]
    [InlineData("../outside.safetensors")]
    [InlineData("/etc/passwd")]
    [InlineData("sub/dir.safetensors")]
    [InlineData("..")]
    public void IndexCannotPointOutsideItsFolder(string shard)
    {
        using var dir = new TempDirectory();
        string index = dir.Write("model.safetensors.index.json", IndexJson(new() { ["w"] = shard }));
        Assertions.InvalidFile(() => SafetensorsReader.ReadIndex(index));
    }

    private static byte[] IndexJson(Dictionary<string, string> weightMap, long? totalSize = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["metadata"] = totalSize is null ? new Dictionary<string, object>() : new Dictionary<string, object> { ["total_size"] = totalSize },
            ["weight_map"] = weightMap,
        });

    // ---- hostile and broken files ----

    [Fact]
    public void ZeroByteFile() => Assertions.InvalidFile(() => Read(Array.Empty<byte>()));

    [Fact]
    public void ShorterThanTheLengthPrefix() => Assertions.InvalidFile(() => Read(new byte[] { 2, 0, 0 }));

    [Fact]
    public void HeaderLengthPastTheEndOfTheFile()
    {
        var bytes = SafetensorsBuilder.Raw("{}", 0, declaredLength: 1000);
        Assert.Contains("header is longer than the file", Assertions.InvalidFile(() => Read(bytes)).Message);
        Assert.Contains("far more than the whole", Assertions.InvalidFile(() => Read(SafetensorsBuilder.Raw("{}", 0, declaredLength: ulong.MaxValue))).Message);
    }

    [Fact]
    public void HeaderLengthOver100MB()
    {
        using var dir = new TempDirectory();
        string path = dir.File("huge.safetensors");
        using (var stream = File.Create(path))
        {
            stream.Write(BitConverter.GetBytes(100_000_008ul));
            stream.WriteByte((byte)'{');
            stream.SetLength(100_000_100); // sparse: the reader must refuse before reading it
        }
        Assert.Contains("limit", Assertions.InvalidFile(() => SafetensorsReader.Read(path)).Message);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("  \"x\"")]
    [InlineData("\0{}")]
    public void HeaderThatDoesNotStartWithABrace(string header) =>
        Assertions.InvalidFile(() => Read(SafetensorsBuilder.Raw(header, 0)));

    [Theory]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 8)]         // span too short for dtype×shape
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4)]         // past the end of the file
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8)]         // backwards
    [InlineData("{\"a\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)]          // unknown dtype
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8)]        // negative dimension
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8)]       // fractional dimension
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8)] // overflow
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8)]                                 // no offsets
    [InlineData("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8)]                             // no dtype
    [InlineData("{\"a\":[1,2]}", 8)]                                                              // tensor not an object
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)] // overlap
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)] // duplicate
    [InlineData("{\"__metadata__\":{\"n\":1}}", 0)]                                              // metadata value not a string
    [InlineData("{\"__metadata__\":[]}", 0)]
    [InlineData("{\"a\":", 0)]                                                                    // not JSON
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4)]          // unclosed
    public void BrokenHeaders(string header, int dataLength) =>
        Assertions.InvalidFile(() => Read(SafetensorsBuilder.Raw(header, dataLength)));

    [Fact]
    public void EveryTruncationOfARealFileIsInvalid()
    {
        var bytes = File.ReadAllBytes(Fixtures.File("safetensors", "mixed.safetensors"));
        for (int length = 0; length < bytes.Length; length++)
            Assertions.InvalidFile(() => Read(bytes[..length]));
    }

    [Fact]
    public void DeeplyNestedJsonIsRefused() =>
        Assertions.InvalidFile(() => Read(SafetensorsBuilder.Raw("{\"__metadata__\":" + new string('[', 5000) + new string(']', 5000) + "}", 0)));
}
