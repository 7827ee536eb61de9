using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Pickle scanner against every real pickle fixture in tests/fixtures/pickle/ (from picklescan's test data, and
/// candle/ from huggingface/candle's torch.save output); none is built here. Globals, opcodes, protocols, pickle
/// counts and verdicts are the facts MANIFEST.md records from pickletools.genops and picklescan's tests.
/// </summary>
public class PickleFixtureTests
{
    private const string G = "GLOBAL", S = "STACK_GLOBAL", I = "INST";

    /// <summary>file, zip?, protocol, complete pickles, expected "module.name [OPCODE]" globals, safe?</summary>
    public static TheoryData<string, bool, int, int, string[], bool> Files => new()
    {
        { "benign0_v0.pkl", false, 0, 1, Array.Empty<string>(), true },
        { "benign0_v3.pkl", false, 3, 1, Array.Empty<string>(), true },
        { "benign0_v4.pkl", false, 4, 1, Array.Empty<string>(), true },
        { "pytorch_model.bin", false, 2, 5, new[] { $"collections.OrderedDict [{G}]", $"torch.FloatStorage [{G}]", $"torch._utils._rebuild_tensor_v2 [{G}]" }, true },
        { "new_pytorch_model.bin", true, 2, 1, new[] { $"collections.OrderedDict [{G}]", $"torch.FloatStorage [{G}]", $"torch._utils._rebuild_tensor_v2 [{G}]" }, true },
        { "candle/test.pt", true, 2, 1, new[] { $"collections.OrderedDict [{G}]", $"torch.LongStorage [{G}]", $"torch._utils._rebuild_tensor_v2 [{G}]" }, true },
        { "candle/test_with_key.pt", true, 2, 1, new[] { $"collections.OrderedDict [{G}]", $"torch.LongStorage [{G}]", $"torch._utils._rebuild_tensor_v2 [{G}]" }, true },
        { "malicious0.pkl", false, 0, 1, new[] { "apply", "compile", "dict", "eval", "getattr", "globals" }.Select(n => $"__builtin__.{n} [{G}]").ToArray(), false },
        { "malicious1_v0.pkl", false, 0, 1, new[] { $"__builtin__.eval [{G}]" }, false },
        { "malicious1_v3.pkl", false, 3, 1, new[] { $"builtins.eval [{G}]" }, false },
        { "malicious1_v4.pkl", false, 4, 1, new[] { $"builtins.eval [{S}]" }, false },
        { "malicious1.zip", true, 4, 1, new[] { $"builtins.eval [{S}]" }, false },
        { "malicious2_v0.pkl", false, 0, 1, new[] { $"posix.system [{G}]" }, false },
        { "malicious2_v3.pkl", false, 3, 1, new[] { $"posix.system [{G}]" }, false },
        { "malicious2_v4.pkl", false, 4, 1, new[] { $"posix.system [{S}]" }, false },
        { "malicious3.pkl", false, 0, 1, new[] { $"httplib.HTTPSConnection [{G}]" }, false },
        { "malicious4.pickle", false, 4, 1, new[] { $"requests.api.get [{S}]" }, false },
        { "malicious7.pkl", false, 4, 1, new[] { $"socket.create_connection [{S}]" }, false },
        { "malicious8.pkl", false, 4, 1, new[] { $"subprocess.run [{S}]" }, false },
        { "malicious10.pkl", false, 0, 1, new[] { $"__builtin__.exec [{I}]" }, false },
        { "malicious13a.pkl", false, 0, 1, new[] { $"_codecs.encode [{G}]", $"pickle.loads [{G}]" }, false },
        { "malicious14.pkl", false, 4, 1, new[] { $"runpy._run_code [{S}]" }, false },
        { "malicious23.pkl", false, 0, 1, new[] { $"os.system [{S}]" }, false },
        { "malicious-invalid-bytes.pkl", false, 0, 1, new[] { $"os.system [{S}]" }, false },
        // torch.load unpickles five pickles of the legacy layout (the first makes the magic number with eval); the sixth is never read.
        { "pytorch_magic_bypass.pt", false, 2, 5, new[] { $"__builtin__.eval [{G}]", $"posix.system [{G}]" }, false },
        { "keyerror-exploit.pkl", false, 4, 1, new[] { $"<memo[3] never stored>.os [{S}]", $"os.system [{G}]" }, false },
        { "type-confusion-exploit.pkl", false, 4, 1, new[] { $"<non-string BININT 42>.os [{S}]", $"os.system [{G}]" }, false },
        { "GHSA-4675-36f9-wf6r.pkl", false, 4, 1, new[] { $"ctypes.CDLL [{S}]" }, false },
        { "GHSA-955r-x9j8-7rhh.pkl", false, 0, 1, new[] { $"_operator.methodcaller [{G}]", $"builtins.__import__ [{G}]" }, false },
    };

    [Theory]
    [MemberData(nameof(Files))]
    public void ScanMatchesTheManifest(string file, bool zip, int protocol, int pickles, string[] globals, bool safe)
    {
        var result = PickleScanner.Scan(Fixtures.File("pickle", file));

        Assert.Equal(zip ? PickleContainer.Zip : PickleContainer.Raw, result.Container);
        Assert.Equal(protocol, result.Protocol);
        Assert.Equal(pickles, result.PickleCount);
        Assert.Equal(globals.Order(StringComparer.Ordinal), result.Globals.Select(g => $"{g.FullName} [{g.Opcode}]").Order(StringComparer.Ordinal));
        Assert.Equal(safe, result.IsSafe);
        Assert.Equal(safe ? PickleVerdict.Safe : PickleVerdict.Unsafe, result.Verdict);

        if (safe)
        {
            Assert.All(result.Globals, g => Assert.Equal(PickleVerdict.Safe, g.Verdict));
            result.ThrowIfUnsafe();
            PickleScanner.EnsureSafe(Fixtures.File("pickle", file));
        }
        else
        {
            // Nothing in these files is on the allowlist, so every global is unsafe and named in the error.
            Assert.All(result.Globals, g => Assert.Equal(PickleVerdict.Unsafe, g.Verdict));
            var ex = Assert.Throws<ModelSecurityException>(result.ThrowIfUnsafe);
            Assert.Equal(ErrorIds.UnsafeModelContent, ex.ErrorId);
            Assert.All(result.Globals, g => Assert.Contains(g.FullName, ex.Message));
            Assert.Throws<ModelSecurityException>(() => PickleScanner.EnsureSafe(Fixtures.File("pickle", file)));
        }

        var info = ModelFileInspector.Inspect(Fixtures.File("pickle", file));
        Assert.Equal(ModelFileFormat.PyTorch, info.Format);
        Assert.Equal("pytorch", info.FormatName);
        Assert.Equal(safe, info.IsSafe);
    }

    [Fact]
    public void LegacyTorchFormatStopsWhereTheStorageBytesStart()
    {
        var result = PickleScanner.Scan(Fixtures.File("pickle", "pytorch_model.bin"));
        var stream = Assert.Single(result.Streams);
        Assert.Equal(5, stream.PickleCount);
        Assert.Equal(8102, stream.StoppedAt);
        Assert.Contains("raw storage data", stream.StopReason);
        Assert.Equal(244862, stream.Length);
    }

    [Fact]
    public void JunkAfterAPickleIsReportedNotFatal()
    {
        var result = PickleScanner.Scan(Fixtures.File("pickle", "malicious-invalid-bytes.pkl"));
        Assert.Equal(73, result.Streams[0].StoppedAt);
    }

    [Fact]
    public void NothingAfterTheFifthPickleOfTheLegacyLayoutIsRead()
    {
        // Its sixth pickle (None) follows the storage keys, where torch.load reads raw storage bytes.
        var result = PickleScanner.Scan(Fixtures.File("pickle", "pytorch_magic_bypass.pt"));
        Assert.Equal(118, result.Streams[0].StoppedAt);
    }

    [Theory]
    [InlineData("new_pytorch_model.bin", "archive/data.pkl")]
    [InlineData("candle/test.pt", "test/data.pkl")]
    [InlineData("candle/test_with_key.pt", "test_with_key/data.pkl")]
    [InlineData("malicious1.zip", "data.pkl")]
    public void ZipEntriesAreNamed(string file, string entry)
    {
        var result = PickleScanner.Scan(Fixtures.File("pickle", file));
        Assert.Equal(entry, Assert.Single(result.Streams).Entry);
        Assert.All(result.Globals, g => Assert.Equal(entry, g.Entry));
    }

    [Fact]
    public void UnresolvableStackGlobalsAreMarked()
    {
        var keyError = PickleScanner.Scan(Fixtures.File("pickle", "keyerror-exploit.pkl"));
        Assert.False(keyError.Globals.Single(g => g.Opcode == "STACK_GLOBAL").IsResolved);
        var confusion = PickleScanner.Scan(Fixtures.File("pickle", "type-confusion-exploit.pkl"));
        Assert.False(confusion.Globals.Single(g => g.Opcode == "STACK_GLOBAL").IsResolved);
    }

    [Fact]
    public void NotAPickleIsInvalidModelFile()
    {
        // "cmod\n" then a name that is not UTF-8: no complete pickle at all.
        Assertions.InvalidFile(() => PickleScanner.Scan(Fixtures.File("pickle", "not_a_pickle.bin")));
        Assert.Equal(ModelFileFormat.Unknown, ModelFileInspector.Inspect(Fixtures.File("pickle", "not_a_pickle.bin")).Format);
    }

    [Fact]
    public void InspectorDescribesTheContainer()
    {
        Assert.Equal("PyTorch zip, pickle protocol 2", ModelFileInspector.Inspect(Fixtures.File("pickle", "candle", "test.pt")).FormatVersion);
        Assert.Equal("pickle protocol 2", ModelFileInspector.Inspect(Fixtures.File("pickle", "pytorch_model.bin")).FormatVersion);
        var unsafeInfo = ModelFileInspector.Inspect(Fixtures.File("pickle", "malicious2_v4.pkl"));
        Assert.Throws<ModelSecurityException>(() => ModelFileInspector.ThrowIfUnsafe(unsafeInfo));
    }
}
