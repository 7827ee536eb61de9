using System.Text;
using ModelLibrary.Formats;
using static ModelLibrary.Tests.Formats.PickleBuilder;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Pickle scanner on pickles this test writes opcode by opcode (no real fixtures here; see
/// <see cref="PickleFixtureTests"/> for those): protocols 0-5, memo tracking, consecutive pickles, torch-style zip
/// archives, the allowlist, and hostile lengths.
/// </summary>
public class PickleScannerTests
{
    private static string[] Globals(PickleScanResult result) => result.Globals.Select(g => $"{g.FullName} [{g.Opcode}]").ToArray();

    // Benign pickles as Python writes them for each protocol.
    private static readonly byte[] Protocol0 = P("(lp0\nI1\naF2.5\naL3L\naS'x'\na.");
    private static readonly byte[] Protocol1 = P("]q\u0000(K\u0001M\u0002\u0001J\u00ff\u00ff\u00ff\u00ffe.");
    private static readonly byte[] Protocol2 = P("\u0080\u0002ccollections\nOrderedDict\nq\u0000)Rq\u0001.");
    private static readonly byte[] Protocol3 = P("\u0080\u0003ctorch._utils\n_rebuild_tensor_v2\nq\u0000C\u0003abcq\u0001B", U32(2), "xy\u0086q\u0002.");
    private static readonly byte[] Protocol4 = Framed(4, P(ShortUnicode("torch"), "\u0094", ShortUnicode("FloatStorage"), "\u0094\u0093\u0094."));
    private static readonly byte[] Protocol5 = Framed(5, P(
        ShortUnicode("numpy._core.multiarray"), "\u0094", ShortUnicode("_reconstruct"), "\u0094\u0093\u0094",
        "\u0096", U64(3), "abc\u0097\u0098\u0086", "\u0088\u0089N\u008f\u0090", "\u008d", U64(2), "ok.", Array.Empty<byte>()));

    [Fact]
    public void EveryProtocolWithItsProtocolNumber()
    {
        Assert.Equal(0, Scan(Protocol0).Protocol);
        Assert.Equal(0, Scan(Protocol1).Protocol); // protocol 1 has no PROTO opcode
        Assert.Equal(2, Scan(Protocol2).Protocol);
        Assert.Equal(3, Scan(Protocol3).Protocol);
        Assert.Equal(4, Scan(Protocol4).Protocol);
        Assert.Equal(5, Scan(Protocol5).Protocol);

        Assert.Empty(Scan(Protocol0).Globals);
        Assert.Equal(new[] { "collections.OrderedDict [GLOBAL]" }, Globals(Scan(Protocol2)));
        Assert.Equal(new[] { "torch._utils._rebuild_tensor_v2 [GLOBAL]" }, Globals(Scan(Protocol3)));
        Assert.Equal(new[] { "torch.FloatStorage [STACK_GLOBAL]" }, Globals(Scan(Protocol4)));
        Assert.Equal(new[] { "numpy._core.multiarray._reconstruct [STACK_GLOBAL]" }, Globals(Scan(Protocol5)));
        Assert.All(new[] { Protocol0, Protocol1, Protocol2, Protocol3, Protocol4, Protocol5 }, p => Assert.True(Scan(p).IsSafe));
    }

    [Fact]
    public void TwoStackGlobalsInARowLeaveTheSecondUnresolved()
    {
        // The second STACK_GLOBAL's operands are the first one's result and what lay below the strings: not strings.
        var result = Scan(P("\u0080\u0004", ShortUnicode("collections"), ShortUnicode("OrderedDict"), "\u0093\u0093."));
        Assert.Equal(2, result.Globals.Count);
        Assert.True(result.Globals[0].IsResolved);
        Assert.Equal("collections.OrderedDict", result.Globals[0].FullName);
        Assert.False(result.Globals[1].IsResolved);
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void AMemoizedStackGlobalResultFetchedAgainIsNotAString()
    {
        // MEMOIZE after STACK_GLOBAL stores the class, not the name string below it; used as a name, it resolves to nothing.
        var result = Scan(P("\u0080\u0004", ShortUnicode("collections"), ShortUnicode("OrderedDict"), "\u0093\u00940",
            ShortUnicode("collections"), "h\u0000\u0093."));
        var second = Assert.Single(result.Globals, g => !g.IsResolved);
        Assert.Equal("collections", second.Module);
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void StackGlobalThroughMemoizeAndBinget()
    {
        var result = Scan(P("\u0080\u0004", ShortUnicode("os"), "\u0094", ShortUnicode("system"), "\u0094", "0", "h\u0000h\u0001\u0093."));
        var global = Assert.Single(result.Globals);
        Assert.Equal("os.system", global.FullName);
        Assert.True(global.IsResolved);
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void StackGlobalThroughLongBinputAndLongBinget()
    {
        var result = Scan(P("\u0080\u0004", ShortUnicode("subprocess"), "r", U32(70000), ShortUnicode("Popen"), "r", U32(70001), "0",
            "j", U32(70000), "j", U32(70001), "\u0093."));
        Assert.Equal(new[] { "subprocess.Popen [STACK_GLOBAL]" }, Globals(result));
    }

    [Fact]
    public void StackGlobalThroughTextPutAndGet()
    {
        var result = Scan(P("Vos\np7\n0Vsystem\np8\n0g7\ng8\n\u0093."));
        Assert.Equal(new[] { "os.system [STACK_GLOBAL]" }, Globals(result));
    }

    [Fact]
    public void StackGlobalWithStringOpcodesOfEveryKind()
    {
        Assert.Equal(new[] { "torch.Size [STACK_GLOBAL]" }, Globals(Scan(P("X", U32(5), "torch", "T", U32(4), "Size", "\u0093."))));
        Assert.Equal(new[] { "torch.device [STACK_GLOBAL]" }, Globals(Scan(P("U\u0005torch", "S\"device\"\n", "\u0093."))));
        Assert.True(Scan(P("U\u0005torch", "S\"device\"\n", "\u0093.")).IsSafe);
    }

    [Theory]
    [InlineData("REDUCE result", "\u0080\u0004ctorch\nSize\n)R\u008c\u0001x\u0093.")]
    [InlineData("after MARK", "(\u008c\u0001x\u0093.")]
    [InlineData("after POP", "\u008c\u0005torch\u008c\u0004Size\u008c\u0001x0\u0093.")]
    [InlineData("bytes name", "\u008c\u0005torchC\u0004Size\u0093.")]
    [InlineData("None module", "N\u008c\u0004Size\u0093.")]
    [InlineData("never-stored memo", "h\u0009\u008c\u0004Size\u0093.")]
    [InlineData("escaped STRING", "S'tor\\x63h'\nS'Size'\n\u0093.")]
    [InlineData("escaped UNICODE", "Vtor\\u0063h\nVSize\n\u0093.")]
    public void StackGlobalWithoutConstantOperandsIsUnsafe(string why, string pickle)
    {
        var result = Scan(Encoding.Latin1.GetBytes(pickle));
        var global = Assert.Single(result.Globals, g => g.Opcode == "STACK_GLOBAL");
        Assert.False(global.IsResolved, why);
        Assert.Equal(PickleVerdict.Unsafe, global.Verdict);
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void StackGlobalWithAVeryLongStringIsUnsafe()
    {
        var result = Scan(P("\u0080\u0004X", U32(2000), new string('a', 2000), ShortUnicode("Size"), "\u0093."));
        Assert.Equal("<BINUNICODE of 2000 bytes>", result.Globals.Single().Module);
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void DupFeedsBothOperands() =>
        Assert.Equal(new[] { "os.os [STACK_GLOBAL]" }, Globals(Scan(P("\u008c\u0002os2\u0093."))));

    [Fact]
    public void InstIsResolved() =>
        Assert.Equal(new[] { "os.system [INST]" }, Globals(Scan(P("(S'ls'\nios\nsystem\n."))));

    [Theory]
    [InlineData("\u0080\u0002\u0082\u0001.", "EXT1")]
    [InlineData("\u0080\u0002\u0083\u0001\u0002.", "EXT2")]
    [InlineData("\u0080\u0002\u0084\u0001\u0002\u0003\u0004.", "EXT4")]
    public void ExtensionCodesAreUnsafe(string pickle, string opcode)
    {
        var result = Scan(Encoding.Latin1.GetBytes(pickle));
        Assert.Equal(opcode, result.Globals.Single().Opcode);
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void ConsecutivePicklesStopCleanlyAtData()
    {
        var bytes = P(Protocol2, Protocol4, "\u00ff\u00fe raw storage bytes");
        var result = Scan(bytes);
        Assert.Equal(2, result.PickleCount);
        Assert.Equal(Protocol2.Length + Protocol4.Length, result.Streams[0].StoppedAt);
        Assert.True(result.IsSafe);
        Assert.Equal(2, result.Protocol); // the first pickle's
    }

    [Fact]
    public void LaterPicklesAreScannedToo()
    {
        var result = Scan(P(Protocol2, "cposix\nsystem\n(S'id'\ntR."));
        Assert.Equal(2, result.PickleCount);
        Assert.Contains("posix.system [GLOBAL]", Globals(result));
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void GlobalsInAnIncompleteTrailingPickleAreStillReported()
    {
        var result = Scan(P(Protocol2, "\u0080\u0002cos\nsystem\n)R"));
        Assert.Equal(1, result.PickleCount);
        Assert.NotNull(result.Streams[0].StoppedAt);
        Assert.Contains("os.system [GLOBAL]", Globals(result));
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void TruncatedFirstPickleIsInvalidAndNamesWhatItSaw()
    {
        var ex = Assertions.InvalidFile(() => Scan(P("\u0080\u0002cos\nsystem\n)R")));
        Assert.Contains("os.system", ex.Message);
    }

    [Fact]
    public void SameGlobalTwiceIsListedOnce()
    {
        var result = Scan(P("\u0080\u0002ctorch\nSize\n)Rctorch\nSize\n)R\u0086."));
        Assert.Single(result.Globals);
    }

    // ---- zip archives (torch's format), built here ----

    [Fact]
    public void TorchStyleZipIsScannedEntryByEntry()
    {
        var bytes = Zip(("archive/data.pkl", Protocol2), ("archive/data/0", new byte[64]), ("archive/version", "3\n"u8.ToArray()),
            ("archive/extra.pkl", P("\u0080\u0004", ShortUnicode("builtins"), ShortUnicode("exec"), "\u0093.")));
        var result = Scan(bytes);
        Assert.Equal(PickleContainer.Zip, result.Container);
        Assert.Equal(new[] { "archive/data.pkl", "archive/extra.pkl" }, result.Streams.Select(s => s.Entry));
        var exec = result.Globals.Single(g => !g.IsSafe);
        Assert.Equal("builtins.exec", exec.FullName);
        Assert.Equal("archive/extra.pkl", exec.Entry);

        using var dir = new TempDirectory();
        var info = ModelFileInspector.Inspect(dir.Write("model.bin", bytes));
        Assert.Equal(ModelFileFormat.PyTorch, info.Format);
        Assert.False(info.IsSafe);
    }

    [Fact]
    public void ZipWithoutPicklesIsNotAPickle()
    {
        var bytes = Zip(("readme.txt", "hello"u8.ToArray()));
        Assertions.InvalidFile(() => Scan(bytes));
        using var dir = new TempDirectory();
        Assert.Equal(ModelFileFormat.Unknown, ModelFileInspector.Inspect(dir.Write("x.pt", bytes)).Format);
    }

    [Fact]
    public void CorruptZipIsInvalid()
    {
        var bytes = Zip(("archive/data.pkl", Protocol2));
        Assertions.InvalidFile(() => Scan(bytes[..(bytes.Length / 2)]));
        Assertions.InvalidFile(() => Scan(P("PK\u0003\u0004", new byte[40])));
    }

    [Fact]
    public void ZipEntryWithABrokenPickleIsInvalid() =>
        Assertions.InvalidFile(() => Scan(Zip(("archive/data.pkl", P("\u0080\u0002ctorch\nSize")))));

    // ---- hostile and broken pickles ----

    [Theory]
    [InlineData("empty", new byte[0])]
    [InlineData("unknown opcode", new byte[] { 0xff })]
    [InlineData("protocol 6", new byte[] { 0x80, 6, (byte)'.' })]
    [InlineData("no STOP", new byte[] { 0x80, 2, (byte)'N' })]
    [InlineData("INT not a number", new byte[] { (byte)'I', (byte)'x', (byte)'\n', (byte)'.' })]
    [InlineData("GET not a number", new byte[] { (byte)'g', (byte)'x', (byte)'\n', (byte)'.' })]
    [InlineData("PUT negative", new byte[] { (byte)'N', (byte)'p', (byte)'-', (byte)'1', (byte)'\n', (byte)'.' })]
    [InlineData("STRING unquoted", new byte[] { (byte)'S', (byte)'x', (byte)'\n', (byte)'.' })]
    [InlineData("line without newline", new byte[] { (byte)'c', (byte)'o', (byte)'s' })]
    [InlineData("invalid UTF-8", new byte[] { 0x8c, 2, 0xc3, 0x28, (byte)'.' })]
    [InlineData("LONG4 negative", new byte[] { 0x8b, 0xff, 0xff, 0xff, 0xff, (byte)'.' })]
    [InlineData("BINSTRING negative", new byte[] { (byte)'T', 0xff, 0xff, 0xff, 0xff, (byte)'.' })]
    [InlineData("BINUNICODE past the end", new byte[] { (byte)'X', 0xff, 0xff, 0xff, 0xff, (byte)'.' })]
    public void BrokenPicklesAreInvalid(string why, byte[] bytes)
    {
        _ = why; // names the case in the test output
        Assertions.InvalidFile(() => Scan(bytes));
    }

    [Theory]
    [InlineData(0x8d)] // BINUNICODE8
    [InlineData(0x8e)] // BINBYTES8
    [InlineData(0x96)] // BYTEARRAY8
    [InlineData(0x95)] // FRAME
    public void HugeEightByteLengths(byte opcode)
    {
        Assertions.InvalidFile(() => Scan(P("\u0080\u0004", opcode, U64(1ul << 63), ".")));
        Assertions.InvalidFile(() => Scan(P("\u0080\u0004", opcode, U64(1ul << 60), ".")));
    }

    [Fact]
    public void VeryLongLinesCostNoMemory()
    {
        // A 20 MB module name: kept clipped, reported unsafe.
        var result = Scan(P("c", new string('a', 20_000_000), "\nb\n."));
        Assert.EndsWith("...", result.Globals.Single().Module);
        Assert.False(result.IsSafe);
    }

    [Fact]
    public void ManyMarksAndMemoEntriesAreFine()
    {
        var body = new StringBuilder("\u0080\u0004");
        for (int i = 0; i < 100_000; i++) body.Append("N\u0094");
        body.Append(new string('(', 100_000)).Append("N."); // STOP needs a value above the last mark, or CPython refuses it
        Assert.True(Scan(Encoding.Latin1.GetBytes(body.ToString())).IsSafe);
    }

    [Fact]
    public void MissingFileIsInvalidModelFile()
    {
        using var dir = new TempDirectory();
        Assertions.InvalidFile(() => PickleScanner.Scan(dir.File("missing.pkl")));
    }

    // ---- the allowlist ----

    [Theory]
    [InlineData("collections", "OrderedDict")]
    [InlineData("torch", "FloatStorage")]
    [InlineData("torch", "HalfStorage")]
    [InlineData("torch", "BFloat16Storage")]
    [InlineData("torch", "UntypedStorage")]
    [InlineData("torch.cuda", "FloatStorage")]
    [InlineData("torch._utils", "_rebuild_tensor")]
    [InlineData("torch._utils", "_rebuild_tensor_v2")]
    [InlineData("torch._utils", "_rebuild_parameter")]
    [InlineData("torch._utils", "_rebuild_parameter_with_state")]
    [InlineData("torch", "Size")]
    [InlineData("torch", "device")]
    [InlineData("torch", "bfloat16")]
    [InlineData("torch", "FloatTensor")]
    [InlineData("torch", "LongTensor")]
    [InlineData("torch.cuda", "HalfTensor")]
    [InlineData("numpy.core.multiarray", "_reconstruct")]
    [InlineData("numpy._core.multiarray", "_reconstruct")]
    [InlineData("numpy", "dtype")]
    [InlineData("numpy", "ndarray")]
    public void Allowed(string module, string name) => Assert.True(PickleAllowlist.IsAllowed(module, name, out _));

    [Theory]
    [InlineData("_codecs", "encode")]
    [InlineData("builtins", "eval")]
    [InlineData("builtins", "getattr")]
    [InlineData("builtins", "set")]
    [InlineData("__builtin__", "eval")]
    [InlineData("torch", "load")]
    [InlineData("torch.storage", "_load_from_bytes")]
    [InlineData("torch._tensor", "_rebuild_from_type_v2")]
    [InlineData("torch", "Storage")]
    [InlineData("torch", "Tensor")]
    [InlineData("torch", "ComplexFloatTensor")]
    [InlineData("torch.nn", "FloatTensor")]
    [InlineData("torch", "FloatStorage.__init__")]
    [InlineData("collections", "OrderedDict.fromkeys")]
    [InlineData("collections.OrderedDict", "__init__")]
    [InlineData("Torch", "Size")]
    [InlineData("numpy", "load")]
    [InlineData("numpy.core.multiarray", "scalar")]
    [InlineData("pickle", "loads")]
    [InlineData("os", "system")]
    public void NotAllowed(string module, string name) => Assert.False(PickleAllowlist.IsAllowed(module, name, out _));
}
