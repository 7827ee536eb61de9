using System.Text;
using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// GGUF headers crafted against the reader (issue 17), built with <see cref="GgufBuilder"/> and patched where the
/// builder writes only valid files. Each is refused as ggml and llama.cpp refuse it, or read as they read it.
/// </summary>
public class GgufHostileTests
{
    private static GgufFile Read(byte[] bytes) => GgufReader.Read(new MemoryStream(bytes), "built.gguf");

    /// <summary>Offset of the first tensor info's offset field, for a header with no key/values and a first tensor of one dimension.</summary>
    private static int FirstTensorOffsetField(string name) => 4 + 4 + 8 + 8 + 8 + Encoding.UTF8.GetByteCount(name) + 4 + 8 + 4;

    [Theory]
    [InlineData(1L << 61, 1L, 0u)] // F32: one row of 2^61 elements of 4 bytes (the row size wraps to 0)
    [InlineData(1L << 62, 1L, 1u)] // F16
    [InlineData(32L, 1L << 58, 8u)] // Q8_0: 2^58 rows of 34 bytes
    public void ATensorWhoseByteSizeOverflowsIsInvalid(long rowLength, long rows, uint type)
    {
        var bytes = new GgufBuilder { OmitTensorData = true }.Tensor("huge", type, rowLength, rows).Build();
        Assert.Contains("overflows", Assertions.InvalidFile(() => Read(bytes)).Message);
    }

    [Theory]
    [InlineData(40u, "NVFP4", 64 * 3, 36 * 3)]
    [InlineData(41u, "Q1_0", 128 * 2, 18 * 2)]
    public void NewTypesHaveTheirSizesAndAShortFileIsTruncated(uint type, string name, long elements, long size)
    {
        var bytes = new GgufBuilder().Tensor("w", type, elements).Build();
        var gguf = Read(bytes);
        Assert.Equal(name, gguf.Tensors[0].TypeName);
        Assert.Equal(size, gguf.Tensors[0].ByteSize);
        Assert.Equal(bytes.Length, gguf.TensorDataEnd);
        Assert.Contains("truncated", Assertions.InvalidFile(() => Read(bytes[..^1])).Message);
    }

    [Fact]
    public void OverlappingTensorsAreInvalid()
    {
        var bytes = new GgufBuilder().Tensor("a", 0, 64).Tensor("b", 0, 64).Build();
        // b's offset (256, after a's 256 bytes) becomes 0: both tensors would read the same bytes.
        int bOffset = FirstTensorOffsetField("a") + 8 + 8 + 1 + 4 + 8 + 4;
        Assert.Equal(256ul, BitConverter.ToUInt64(bytes, bOffset));
        BitConverter.GetBytes(0ul).CopyTo(bytes, bOffset);
        Assert.Contains("tensor 'b' has offset 0, expected 256", Assertions.InvalidFile(() => Read(bytes)).Message);
    }

    [Fact]
    public void TensorsOutOfOffsetOrderAreInvalid()
    {
        var bytes = new GgufBuilder().Tensor("a", 0, 64).Tensor("b", 0, 64).Build();
        int aOffset = FirstTensorOffsetField("a");
        int bOffset = aOffset + 8 + 8 + 1 + 4 + 8 + 4;
        BitConverter.GetBytes(256ul).CopyTo(bytes, aOffset);
        BitConverter.GetBytes(0ul).CopyTo(bytes, bOffset);
        Assert.Contains("tensor 'a' has offset 256, expected 0", Assertions.InvalidFile(() => Read(bytes)).Message);
    }

    [Fact]
    public void AKeyThatIsNotUtf8IsInvalid()
    {
        var bytes = new GgufBuilder().String("general.nameZ", "x").String("general.name", "y").Build();
        int z = bytes.AsSpan().IndexOf("nameZ"u8) + 4;
        bytes[z] = 0xFF;
        Assert.Contains("metadata key is not valid UTF-8", Assertions.InvalidFile(() => Read(bytes)).Message);
    }

    [Fact]
    public void DeeplyNestedArraysKeepABoundedPreview()
    {
        // 32 x 32 x 32 x 32 arrays of bytes: a 1.4 MB header whose previews, kept whole, would be over a million values.
        object Level(int depth) => depth == 0
            ? new GgufArray(GgufValueType.UInt8, Enumerable.Repeat((object)(byte)1, 32).ToArray())
            : new GgufArray(GgufValueType.Array, Enumerable.Range(0, 32).Select(_ => Level(depth - 1)).ToArray());
        var bytes = new GgufBuilder().Value("nested", GgufValueType.Array, Level(3)).Build();

        var value = Read(bytes).Metadata["nested"];
        long Kept(GgufValue v) => 1 + v.Items.Sum(Kept);
        Assert.InRange(Kept(value), 1, GgufReader.PreviewBudget / 64 + 1);
        Assert.Equal(32ul, value.ArrayLength);
        Assert.Equal(32ul, value.Items[0].ArrayLength);
    }

    [Fact]
    public void WithoutAFileTypeTheQuantizationIsGuessedFromTensorCountsAsLlamaCppDoes()
    {
        // Three small Q4_K tensors and one large F32 one: llama.cpp counts tensors, so Q4_K_M, not F32.
        var gguf = Read(new GgufBuilder().Tensor("a", 12, 256).Tensor("b", 12, 256).Tensor("c", 12, 256).Tensor("emb", 0, 4096, 16).Build());
        Assert.Equal("Q4_K_M", gguf.Quantization);
        Assert.True(gguf.IsQuantizationGuessed);
        // On a tie, the type that reached the count first in tensor-name order.
        Assert.Equal("F16", Read(new GgufBuilder().Tensor("b", 0, 8).Tensor("a", 1, 8).Build()).Quantization);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(999)]
    public void AnInvalidFileTypeGivesNoQuantization(int fileType)
    {
        var gguf = Read(new GgufBuilder().Value("general.file_type", GgufValueType.Int32, fileType).Tensor("a", 14, 256).Build());
        Assert.Null(gguf.Quantization);
        Assert.False(gguf.IsQuantizationGuessed);
    }

    [Fact]
    public void AByteSwappedVersionIsNamedAsSuch()
    {
        var message = Assertions.InvalidFile(() => Read("GGUF\0\0\u0003\0"u8.ToArray().Concat(new byte[32]).ToArray())).Message;
        Assert.Contains("0x00030000", message);
        Assert.Contains("byte-swapped", message);
    }

    private static string[] WriteSplit(TempDirectory dir, int declaredTensors, string secondPartTensor)
    {
        var paths = new string[2];
        for (int i = 0; i < 2; i++)
        {
            var builder = new GgufBuilder()
                .Value("split.no", GgufValueType.UInt16, (ushort)i)
                .Value("split.count", GgufValueType.UInt16, (ushort)2)
                .Value("split.tensors.count", GgufValueType.Int32, declaredTensors)
                .Tensor(i == 0 ? "blk.0.a" : secondPartTensor, 0, 8);
            paths[i] = dir.Write(Path.GetFileName(GgufSplitSet.PartPath("m", i + 1, 2)), builder.Build());
        }
        return paths;
    }

    [Fact]
    public void ASplitSetWhoseTensorCountDisagreesIsInvalid()
    {
        using var dir = new TempDirectory();
        Assert.Equal(2, ModelFileInspector.Inspect(WriteSplit(dir, 2, "blk.1.a")[0]).TensorCount);
        using var other = new TempDirectory();
        Assert.Contains("split.tensors.count says the split model has 3 tensors",
            Assertions.InvalidFile(() => ModelFileInspector.Inspect(WriteSplit(other, 3, "blk.1.a")[0])).Message);
    }

    [Fact]
    public void ASplitSetWithOneTensorInTwoPartsIsInvalid()
    {
        using var dir = new TempDirectory();
        Assert.Contains("tensor 'blk.0.a' is in both part 1 and part 2",
            Assertions.InvalidFile(() => ModelFileInspector.Inspect(WriteSplit(dir, 2, "blk.0.a")[0])).Message);
    }
}
