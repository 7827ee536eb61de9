using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// GGUF reader edge cases on files this test builds with <see cref="GgufBuilder"/> (no real fixtures here):
/// every value type, nested and large arrays, v2/v3, big-endian, quantized tensors, and hostile headers.
/// </summary>
public class GgufBuilderTests
{
    private static GgufFile Read(byte[] bytes) => GgufReader.Read(new MemoryStream(bytes), "built.gguf");

    private static GgufBuilder EveryType(uint version, bool bigEndian) => new GgufBuilder { Version = version, BigEndian = bigEndian }
        .Value("u8", GgufValueType.UInt8, (byte)200)
        .Value("i8", GgufValueType.Int8, (sbyte)-100)
        .Value("u16", GgufValueType.UInt16, (ushort)60000)
        .Value("i16", GgufValueType.Int16, (short)-30000)
        .Value("u32", GgufValueType.UInt32, 4000000000u)
        .Value("i32", GgufValueType.Int32, -2000000000)
        .Value("f32", GgufValueType.Float32, 1.5f)
        .Value("bool", GgufValueType.Bool, true)
        .String("str", "héllo")
        .Value("u64", GgufValueType.UInt64, ulong.MaxValue)
        .Value("i64", GgufValueType.Int64, long.MinValue)
        .Value("f64", GgufValueType.Float64, -2.25)
        .Array("arr.i32", GgufValueType.Int32, 1, 2, 3)
        .Array("arr.str", GgufValueType.String, "a", "bc", "")
        .Array("arr.nested", GgufValueType.Array,
            new GgufArray(GgufValueType.UInt8, (byte)1, (byte)2),
            new GgufArray(GgufValueType.String, "x"),
            new GgufArray(GgufValueType.Array, new GgufArray(GgufValueType.Float64, 0.5)))
        .Array("arr.empty", GgufValueType.Bool)
        .Tensor("w", 0, 4, 2);

    [Theory]
    [InlineData(3u, false)]
    [InlineData(2u, false)]
    [InlineData(3u, true)]
    [InlineData(2u, true)]
    public void ReadsEveryValueType(uint version, bool bigEndian)
    {
        var gguf = Read(EveryType(version, bigEndian).Build());

        Assert.Equal(version, gguf.Version);
        Assert.Equal(bigEndian, gguf.IsBigEndian);
        var m = gguf.Metadata;
        Assert.Equal((byte)200, m["u8"].Value);
        Assert.Equal((sbyte)-100, m["i8"].Value);
        Assert.Equal((ushort)60000, m["u16"].Value);
        Assert.Equal((short)-30000, m["i16"].Value);
        Assert.Equal(4000000000u, m["u32"].Value);
        Assert.Equal(-2000000000, m["i32"].Value);
        Assert.Equal(1.5f, m["f32"].Value);
        Assert.Equal(true, m["bool"].Value);
        Assert.Equal("héllo", m["str"].Value);
        Assert.Equal(ulong.MaxValue, m["u64"].Value);
        Assert.Null(m["u64"].AsInt64());
        Assert.Equal(long.MinValue, m["i64"].Value);
        Assert.Equal(-2.25, m["f64"].Value);

        Assert.Equal(new object[] { 1, 2, 3 }, m["arr.i32"].Items.Select(i => i.Value));
        Assert.Equal(new object[] { "a", "bc", "" }, m["arr.str"].Items.Select(i => i.Value));
        var nested = m["arr.nested"];
        Assert.Equal(GgufValueType.Array, nested.ElementType);
        Assert.Equal(3ul, nested.ArrayLength);
        Assert.Equal(new object[] { (byte)1, (byte)2 }, nested.Items[0].Items.Select(i => i.Value));
        Assert.Equal("x", nested.Items[1].Items[0].Value);
        Assert.Equal(0.5, nested.Items[2].Items[0].Items[0].Value);
        Assert.Equal(0ul, m["arr.empty"].ArrayLength);
        Assert.True(m["arr.empty"].IsFullyRead);

        Assert.Equal(8, gguf.ParameterCount);
        Assert.Equal(gguf.FileSize, gguf.TensorDataEnd);
    }

    [Fact]
    public void BigEndianAndLittleEndianFilesReadTheSame()
    {
        var little = Read(EveryType(3, bigEndian: false).Build());
        var big = Read(EveryType(3, bigEndian: true).Build());
        Assert.Equal(little.Metadata.Keys, big.Metadata.Keys);
        foreach (var key in little.Metadata.Keys) Assert.Equal(little.Metadata[key].ToString(), big.Metadata[key].ToString());
        Assert.Equal(little.Tensors.Single().Dimensions, big.Tensors.Single().Dimensions);
    }

    [Fact]
    public void LargeArraysAreCountedNotMaterialised()
    {
        var tokens = Enumerable.Range(0, 50_000).Select(i => (object)$"tok{i}").ToArray();
        var scores = Enumerable.Range(0, 50_000).Select(i => (object)(float)i).ToArray();
        var merges = Enumerable.Range(0, 2_000).Select(i => (object)new GgufArray(GgufValueType.String, "a", "b")).ToArray();
        var gguf = Read(new GgufBuilder()
            .Array("tokenizer.ggml.tokens", GgufValueType.String, tokens)
            .Array("tokenizer.ggml.scores", GgufValueType.Float32, scores)
            .Array("nested.big", GgufValueType.Array, merges)
            .String("after", "still read")
            .Build());

        Assert.Equal(50_000, gguf.TokenCount);
        var list = gguf.Metadata["tokenizer.ggml.tokens"];
        Assert.Equal(GgufReader.ArrayPreviewLength, list.Items.Count);
        Assert.Equal("tok31", list.Items[^1].Value);
        Assert.Equal(50_000ul, gguf.Metadata["tokenizer.ggml.scores"].ArrayLength);
        Assert.Equal(2_000ul, gguf.Metadata["nested.big"].ArrayLength);
        Assert.Equal("still read", gguf.GetString("after"));
    }

    [Theory]
    [InlineData(0u, "F32")]
    [InlineData(1u, "F16")]
    [InlineData(2u, "Q4_0")]
    [InlineData(7u, "Q8_0")]
    [InlineData(10u, "Q2_K")]
    [InlineData(15u, "Q4_K_M")]
    [InlineData(18u, "Q6_K")]
    [InlineData(22u, "IQ3_XS")]
    [InlineData(30u, "IQ4_XS")]
    [InlineData(32u, "BF16")]
    [InlineData(36u, "TQ1_0")]
    [InlineData(37u, "TQ2_0")]
    [InlineData(39u, "NVFP4")]
    [InlineData(40u, "Q1_0")]
    [InlineData(1024u + 15u, "Q4_K_M")] // llama.cpp's "guessed" flag
    [InlineData(99u, null)]
    public void FileTypeMapsToQuantizationName(uint fileType, string? expected)
    {
        var gguf = Read(new GgufBuilder().Value("general.file_type", GgufValueType.UInt32, fileType).Build());
        Assert.Equal(fileType, gguf.FileType);
        Assert.Equal(expected, gguf.Quantization);
    }

    [Fact]
    public void ReadsArchitectureHyperparameters()
    {
        var info = new GgufBuilder()
            .String("general.architecture", "qwen2moe")
            .String("general.name", "Tiny MoE")
            .Value("general.file_type", GgufValueType.UInt32, 15u)
            .Value("qwen2moe.context_length", GgufValueType.UInt32, 32768u)
            .Value("qwen2moe.embedding_length", GgufValueType.UInt32, 2048u)
            .Value("qwen2moe.block_count", GgufValueType.UInt32, 24u)
            .Value("qwen2moe.attention.head_count", GgufValueType.UInt32, 16u)
            .Array("qwen2moe.attention.head_count_kv", GgufValueType.Int32, 4, 8, 2) // per-layer, as some architectures write it
            .Value("qwen2moe.expert_count", GgufValueType.UInt32, 60u)
            .String("tokenizer.ggml.model", "gpt2")
            .String("tokenizer.chat_template", "{% for m in messages %}{{ m.content }}{% endfor %}");
        var gguf = Read(info.Build());

        Assert.Equal("qwen2moe", gguf.Architecture);
        Assert.Equal("Tiny MoE", gguf.Name);
        Assert.Equal("Q4_K_M", gguf.Quantization);
        Assert.Equal(32768, gguf.ContextLength);
        Assert.Equal(2048, gguf.EmbeddingLength);
        Assert.Equal(24, gguf.BlockCount);
        Assert.Equal(16, gguf.HeadCount);
        Assert.Equal(8, gguf.HeadCountKv);
        Assert.Equal(60, gguf.ExpertCount);
        Assert.Equal("gpt2", gguf.TokenizerModel);
        Assert.True(gguf.HasChatTemplate);
    }

    [Fact]
    public void QuantizedTensorsGiveParameterCountAndExpectedSize()
    {
        var builder = new GgufBuilder()
            .Value("general.alignment", GgufValueType.UInt32, 64u)
            .Tensor("a", 2, 64, 3)     // Q4_0: 2 blocks per row × 18 bytes × 3 rows = 108
            .Tensor("b", 8, 32, 5)     // Q8_0: 1 × 34 × 5 = 170
            .Tensor("c", 12, 512, 2)   // Q4_K: 2 × 144 × 2 = 576
            .Tensor("d", 1, 7);        // F16: 14
        builder.Alignment = 64;
        var bytes = builder.Build();
        var gguf = Read(bytes);

        Assert.Equal(64u, gguf.Alignment);
        Assert.Equal(0, gguf.DataOffset % 64);
        Assert.Equal(64 * 3 + 32 * 5 + 512 * 2 + 7, gguf.ParameterCount);
        Assert.Equal(new long?[] { 108, 170, 576, 14 }, gguf.Tensors.Select(t => t.ByteSize));
        Assert.All(gguf.Tensors, t => Assert.Equal(0ul, t.Offset % 64));
        Assert.Equal(bytes.Length, gguf.TensorDataEnd);
        Assert.Equal("Q4_K", gguf.DominantTensorType);
    }

    [Theory]
    [InlineData(200u)]
    [InlineData(4u)]  // Q4_2, removed from ggml
    [InlineData(99u)]
    public void AnUnknownOrRemovedGgmlTypeIsInvalid(uint type)
    {
        // ggml refuses such a tensor; before, one of them switched the truncation check off for the whole file.
        var w = new GgufBuilder().Tensor("x", 0, 8).Tensor("y", 0, 8).Build()[..^1];
        // Patch the first tensor's type field (after its name, ndim and one dimension) to the unknown type.
        int typeAt = 4 + 4 + 8 + 8 + (8 + 1) + 4 + 8;
        BitConverter.GetBytes(type).CopyTo(w, typeAt);
        Assert.Contains($"ggml type {type}, which is not a ggml type", Assertions.InvalidFile(() => Read(w)).Message);
    }

    // ---- hostile and broken files: each must fail with InvalidModelFile, quickly ----

    [Fact]
    public void ZeroByteFile() =>
        Assert.Contains("empty", Assertions.InvalidFile(() => Read(Array.Empty<byte>())).Message);

    [Fact]
    public void MissingFileIsInvalidModelFile()
    {
        using var dir = new TempDirectory();
        Assertions.InvalidFile(() => GgufReader.Read(dir.File("nope.gguf")));
        Assertions.InvalidFile(() => ModelFileInspector.Inspect(dir.File("nope.gguf")));
    }

    [Fact]
    public void WrongMagic() => Assertions.InvalidFile(() => Read("GGML\x03\0\0\0"u8.ToArray()));

    [Fact]
    public void EveryTruncationOfAValidHeaderIsInvalid()
    {
        var bytes = EveryType(3, false).Build();
        for (int length = 0; length < bytes.Length; length++)
            Assertions.InvalidFile(() => Read(bytes[..length]));
    }

    [Fact]
    public void TruncatedTensorData()
    {
        var bytes = new GgufBuilder().Tensor("w", 0, 1024).Build();
        var ex = Assertions.InvalidFile(() => Read(bytes[..^1]));
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void DataOffsetPastTheEnd()
    {
        var bytes = new GgufBuilder { OmitTensorData = true }.Tensor("w", 0, 1).Build();
        Assertions.InvalidFile(() => Read(bytes));
    }

    [Fact]
    public void StringLengthOf2Pow63() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().Raw("k", w => { w.U32(8); w.U64(1ul << 63); }).Build()));

    [Fact]
    public void KeyLengthOf2Pow63()
    {
        var w = new BinWriter();
        w.Bytes("GGUF"u8.ToArray()); w.U32(3); w.U64(0); w.U64(1); w.U64(1ul << 63);
        Assertions.InvalidFile(() => Read(w.ToArray()));
    }

    [Fact]
    public void ArrayCountOf2Pow60() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().Raw("k", w => { w.U32(9); w.U32(4); w.U64(1ul << 60); }).Build()));

    [Fact]
    public void StringArrayCountOf2Pow60() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().Raw("k", w => { w.U32(9); w.U32(8); w.U64(1ul << 60); }).Build()));

    [Theory]
    [InlineData(13u)]
    [InlineData(0xFFFFFFFFu)]
    public void UnknownValueType(uint type) =>
        Assert.Contains("unknown", Assertions.InvalidFile(() => Read(new GgufBuilder().Raw("k", w => { w.U32(type); w.U32(0); }).Build())).Message);

    [Fact]
    public void UnknownArrayElementType() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().Raw("k", w => { w.U32(9); w.U32(77); w.U64(1); }).Build()));

    [Fact]
    public void NestedArraysDeeperThanTheCap()
    {
        object value = new GgufArray(GgufValueType.UInt8, (byte)1);
        for (int i = 0; i < 20; i++) value = new GgufArray(GgufValueType.Array, value);
        var ex = Assertions.InvalidFile(() => Read(new GgufBuilder().Value("deep", GgufValueType.Array, value).Build()));
        Assert.Contains("nested", ex.Message);
    }

    [Fact]
    public void NestedArraysAtTheCapAreRead()
    {
        object value = new GgufArray(GgufValueType.UInt8, (byte)1);
        for (int i = 1; i < GgufReader.MaxArrayDepth; i++) value = new GgufArray(GgufValueType.Array, value);
        var gguf = Read(new GgufBuilder().Value("deep", GgufValueType.Array, value).Build());
        Assert.True(gguf.Metadata["deep"].IsArray);
    }

    [Theory]
    [InlineData(1u, "version 1")]
    [InlineData(4u, "version 4")]
    [InlineData(0u, "version 0")]
    public void UnsupportedVersions(uint version, string expected) =>
        Assert.Contains(expected, Assertions.InvalidFile(() => Read(new GgufBuilder { Version = version }.Build())).Message);

    [Fact]
    public void BigEndianVersion1IsRefused() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder { Version = 1, BigEndian = true }.Build()));

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1ul << 40)]
    [InlineData(5ul)] // more than the bytes left can hold
    public void HugeKeyValueCounts(ulong count) =>
        Assertions.InvalidFile(() => Read(new GgufBuilder { DeclaredKvCount = count }.Build()));

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1ul << 40)]
    [InlineData(3ul)]
    public void HugeTensorCounts(ulong count) =>
        Assertions.InvalidFile(() => Read(new GgufBuilder { DeclaredTensorCount = count }.Build()));

    [Fact]
    public void TooManyDimensions() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().Tensor("t", 0, 1, 1, 1, 1, 1).Build()));

    [Fact]
    public void DimensionProductOverflows() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder { OmitTensorData = true }.Tensor("t", 0, 1L << 40, 1L << 40).Build()));

    [Fact]
    public void DuplicateKey() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().String("a", "1").String("a", "2").Build()));

    [Fact]
    public void DuplicateTensorName() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().Tensor("t", 0, 8).Tensor("t", 0, 8).Build()));

    [Fact]
    public void AlignmentThatIsNotAPowerOfTwo() =>
        Assertions.InvalidFile(() => Read(new GgufBuilder().Value("general.alignment", GgufValueType.UInt32, 24u).Build()));

    [Fact]
    public void MisalignedTensorOffset()
    {
        var bytes = new GgufBuilder().Tensor("a", 0, 8).Tensor("b", 0, 8).Build();
        var gguf = Read(bytes);
        // b's offset is 32; make it 4.
        int at = (int)gguf.HeaderEnd - 8;
        BitConverter.GetBytes(4ul).CopyTo(bytes, at);
        Assertions.InvalidFile(() => Read(bytes));
    }

    [Fact]
    public void RowNotAMultipleOfTheBlockSize()
    {
        var bytes = new GgufBuilder().Tensor("q", 2, 64).Build();
        var gguf = Read(bytes);
        // ne0 sits after name (8 + 1 bytes) and n_dims (4) in the only tensor info.
        int dimAt = (int)gguf.HeaderEnd - 8 - 4 - 8;
        BitConverter.GetBytes(33ul).CopyTo(bytes, dimAt);
        Assertions.InvalidFile(() => Read(bytes));
    }
}
