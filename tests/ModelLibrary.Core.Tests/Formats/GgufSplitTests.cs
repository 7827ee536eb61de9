using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Split GGUF models (<c>name-0000i-of-0000N.gguf</c>, as gguf-split writes them). Every file here is built by the
/// test with <see cref="GgufBuilder"/>; no real split fixture exists.
/// </summary>
public class GgufSplitTests
{
    private static string[] WriteSplitSet(TempDirectory dir, string prefix, int parts)
    {
        var paths = new string[parts];
        for (int i = 0; i < parts; i++)
        {
            var builder = new GgufBuilder()
                .Value("split.no", GgufValueType.UInt16, (ushort)i)
                .Value("split.count", GgufValueType.UInt16, (ushort)parts)
                .Value("split.tensors.count", GgufValueType.Int32, parts * 2);
            if (i == 0)
            {
                builder.String("general.architecture", "llama")
                    .String("general.name", "split test")
                    .Value("general.file_type", GgufValueType.UInt32, 7u)
                    .Value("llama.context_length", GgufValueType.UInt32, 4096u);
            }
            builder.Tensor($"blk.{i}.a", 8, 64, 10).Tensor($"blk.{i}.b", 0, 100);
            paths[i] = dir.Write(GgufSplitSet.PartPath(prefix, i + 1, parts)[(dir.Path.Length + 1)..], builder.Build());
        }
        return paths;
    }

    [Fact]
    public void AnyPartFindsTheWholeSet()
    {
        using var dir = new TempDirectory();
        var paths = WriteSplitSet(dir, dir.File("model-q8_0"), 3);
        Assert.EndsWith("model-q8_0-00002-of-00003.gguf", paths[1]);

        var set = GgufSplitSet.Find(paths[1]);
        Assert.NotNull(set);
        Assert.Equal(3, set.PartCount);
        Assert.True(set.IsComplete);
        Assert.Equal(paths, set.Parts);
        Assert.Equal(paths.Sum(p => new FileInfo(p).Length), set.TotalSize);
    }

    [Fact]
    public void InspectingAPartReadsTheWholeModel()
    {
        using var dir = new TempDirectory();
        var paths = WriteSplitSet(dir, dir.File("model"), 3);

        var info = ModelFileInspector.Inspect(paths[2]);
        Assert.Equal(3, info.PartCount);
        Assert.Equal(6, info.TensorCount);
        Assert.Equal(3 * (64 * 10 + 100), info.ParameterCount);
        Assert.Equal("llama", info.Architecture);
        Assert.Equal("Q8_0", info.Quantization);
        Assert.Equal(4096, info.ContextLength);
        Assert.Equal(paths.Sum(p => new FileInfo(p).Length), info.TotalSize);
        Assert.Equal(3, info.GgufParts.Count);
    }

    [Fact]
    public void MissingPartIsInvalidModelFile()
    {
        using var dir = new TempDirectory();
        var paths = WriteSplitSet(dir, dir.File("model"), 3);
        File.Delete(paths[1]);

        var set = GgufSplitSet.Find(paths[0])!;
        Assert.False(set.IsComplete);
        Assert.Equal(new[] { 2 }, set.MissingPartNumbers);
        Assert.Contains("missing part(s) 2 of 3", Assertions.InvalidFile(() => ModelFileInspector.Inspect(paths[0])).Message);
    }

    [Fact]
    public void PartFromAnotherSetIsRefused()
    {
        using var dir = new TempDirectory();
        var paths = WriteSplitSet(dir, dir.File("model"), 2);
        File.Copy(paths[0], paths[1], overwrite: true); // part 2 now says split.no = 0
        Assertions.InvalidFile(() => ModelFileInspector.Inspect(paths[0]));
    }

    [Theory]
    [InlineData("model.gguf")]
    [InlineData("model-00001-of-00000.gguf")]
    [InlineData("model-00003-of-00002.gguf")]
    [InlineData("model-1-of-2.gguf")]
    [InlineData("model-00001-of-00002.safetensors")]
    public void NamesThatAreNotSplitParts(string name)
    {
        Assert.False(GgufSplitSet.TryParseName(name, out _, out _, out _));
        Assert.Null(GgufSplitSet.Find(name));
    }

    [Fact]
    public void ParsesAPartName()
    {
        Assert.True(GgufSplitSet.TryParseName(Path.Combine("dir", "Qwen-7B-Q4_K_M-00002-of-00005.gguf"), out var prefix, out int part, out int count));
        Assert.Equal(Path.Combine("dir", "Qwen-7B-Q4_K_M"), prefix);
        Assert.Equal(2, part);
        Assert.Equal(5, count);
    }
}
