using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// The safetensors buffer is "entirely indexed" (the format's README): the reference reader's validate walks the tensors
/// in offset order from 0 and wants the last to end where the file does. Headers are judged by one rule whatever their
/// leading whitespace, and their errors are named as header errors. Files built with <see cref="SafetensorsBuilder.Raw"/>.
/// </summary>
public class SafetensorsLayoutTests
{
    private static SafetensorsFile Read(byte[] bytes) => SafetensorsReader.Read(new MemoryStream(bytes), "built.safetensors");

    private const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
    private const string B = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";

    public static TheoryData<string, string, long, string> Broken => new()
    {
        { "a hole between tensors", "{" + A + "[0,8]}," + B + "[12,20]}}", 20, "hole of 4 bytes" },
        { "a first tensor not at 0", "{" + A + "[4,12]}}", 12, "starts at data byte 4, not 0" },
        { "bytes after the last tensor", "{" + A + "[0,8]}}", 9, "1 bytes after the end" },
        { "a zero-size tensor inside another", "{" + A + "[0,8]},\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}", 8, "overlap" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void ABufferThatIsNotEntirelyIndexedIsInvalid(string why, string header, long dataLength, string message)
    {
        var ex = Assertions.InvalidFile(() => Read(SafetensorsBuilder.Raw(header, dataLength)));
        Assert.True(ex.Message.Contains(message), $"{why}: {ex.Message}");
    }

    [Fact]
    public void ContiguousTensorsAndZeroSizeOnesAtTheirEdgesAreFine()
    {
        var file = Read(SafetensorsBuilder.Raw("{" + A + "[0,8]},\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,8]}," + B + "[8,16]}}", 16));
        Assert.Equal(3, file.Tensors.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(60)]
    [InlineData(5000)]
    public void LeadingWhitespaceIsOneRuleAtAnyLength(int spaces)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("model.safetensors", SafetensorsBuilder.Raw(new string(' ', spaces) + "{" + A + "[0,8]}}", 8));
        var info = ModelFileInspector.Inspect(path);
        Assert.Equal(ModelFileFormat.Safetensors, info.Format);
        Assert.Equal(2, info.ParameterCount);
    }

    public static TheoryData<byte[], string> HeaderErrors => new()
    {
        { SafetensorsBuilder.Raw("", 16, declaredLength: 0), "header length is 0" },
        { SafetensorsBuilder.Raw("{}", 0, declaredLength: 100), "header is longer than the file" },
        { SafetensorsBuilder.Raw("{}", 0, declaredLength: 1UL << 40), "far more than the whole" },
        { SafetensorsBuilder.Raw("  [1, 2]", 0), "not a JSON object" },
        { SafetensorsBuilder.Raw("{\"a\": ", 0), "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(HeaderErrors))]
    public void AFileNamedSafetensorsGetsItsHeaderErrorNamed(byte[] bytes, string message)
    {
        using var dir = new TempDirectory();
        var path = dir.Write("model.safetensors", bytes);
        var ex = Assertions.InvalidFile(() => ModelFileInspector.Inspect(path));
        Assert.Contains("safetensors header", ex.Message);
        Assert.Contains(message, ex.Message);
    }
}
