using ModelLibrary.Compatibility;
using ModelLibrary.Formats;
using ModelLibrary.Library;
using static ModelLibrary.Tests.Formats.PickleBuilder;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Parameter count and dtype of PyTorch checkpoints, read by following the pickles' tensor rebuilds without running
/// them. Real files: the torch.save outputs in tests/fixtures/pickle (picklescan's pytorch_model.bin and
/// new_pytorch_model.bin, candle's test.pt); built here: state dicts in every shape torch writes, and pickles the
/// bounded stack machine must give up on (unknown, never a crash or a wrong count).
/// </summary>
public class PickleTensorCountTests
{
    // ---- real checkpoints ----

    /// <summary>
    /// Expected counts come from the files' own layout, not from this scanner: the legacy pytorch_model.bin (a tiny
    /// distilbert, 38 F32 tensors) ends its pickles at byte 8102 and stores each of its 38 storages after them as an
    /// 8-byte length and 4-byte floats, so (244862 - 8102 - 38 × 8) / 4 = 59114 elements; the zip files hold one
    /// tensor each, [3, 4] F32 (48 bytes in archive/data/0) and [2, 4] I64 (64 bytes in test/data/0).
    /// </summary>
    [Theory]
    [InlineData("pytorch_model.bin", 59114L, 38L, "F32", "59.1K")]
    [InlineData("new_pytorch_model.bin", 12L, 1L, "F32", "12")]
    [InlineData("candle/test.pt", 8L, 1L, "I64", "8")]
    [InlineData("candle/test_with_key.pt", 8L, 1L, "I64", "8")]
    public void RealCheckpointsReportTheirParametersAndDType(string file, long parameters, long tensors, string dtype, string label)
    {
        var path = Fixtures.File(["pickle", .. file.Split('/')]);
        var scan = PickleScanner.Scan(path);
        Assert.Null(scan.Tensors.UnknownReason);
        Assert.Equal(parameters, scan.Tensors.ParameterCount);
        Assert.Equal(tensors, scan.Tensors.TensorCount);
        Assert.Equal(dtype, scan.Tensors.DominantDType);

        var info = ModelFileInspector.Inspect(path);
        Assert.Equal(parameters, info.ParameterCount);
        Assert.Equal(tensors, info.TensorCount);
        Assert.Equal(dtype, info.Quantization);

        var metadata = ModelMetadataReader.FromHeader(info);
        Assert.Equal(parameters, metadata.ParameterCount);
        Assert.Equal(label, metadata.Parameters);
        Assert.Equal(dtype, metadata.Quantization);
    }

    [Theory]
    [InlineData("benign0_v3.pkl")]
    [InlineData("malicious1_v0.pkl")]
    public void PicklesWithoutTensorsHaveNoParameterCount(string file)
    {
        var scan = PickleScanner.Scan(Fixtures.File("pickle", file));
        Assert.Null(scan.Tensors.UnknownReason);
        Assert.Equal(0, scan.Tensors.TensorCount);
        Assert.Null(scan.Tensors.ParameterCount);
        var info = ModelFileInspector.Inspect(Fixtures.File("pickle", file));
        Assert.Null(info.ParameterCount);
        Assert.Null(info.TensorCount);
        Assert.Null(info.Quantization);
    }

    [Fact]
    public void TheMemoryEstimateUsesAPyTorchFilesParameters()
    {
        // An F16 checkpoint of 3 × 1M parameters: the estimate counts 16 bits per weight from the file's dtype.
        var bytes = TorchZip(StateDict(new Tensor[]
        {
            new("embed.weight", "HalfStorage", "0", [1000, 1000]),
            new("layer.weight", "HalfStorage", "1", [1000, 1000]),
            new("head.weight", "HalfStorage", "2", [1000, 1000]),
        }), "0", "1", "2");
        using var dir = new TempDirectory();
        var info = ModelFileInspector.Inspect(dir.Write("pytorch_model.bin", bytes));
        var model = new ModelInfo { Id = "m", Provider = "transformers", FileName = "pytorch_model.bin", Metadata = ModelFileInspector.ToMetadata(info) };

        var estimate = MemoryEstimator.Estimate(model, new ProviderCapabilities { Name = "transformers" });
        Assert.Equal(MemoryEstimateMethod.Parameters, estimate.Method);
        Assert.Equal(3_000_000, estimate.ParameterCount);
        Assert.Equal("F16", estimate.Quantization);
        Assert.Equal(6_000_000, estimate.Weights);
    }

    // ---- state dicts as torch writes them ----

    [Fact]
    public void ZipStateDictSumsElementsAndNamesTheDominantDType()
    {
        var bytes = TorchZip(StateDict(new Tensor[]
        {
            new("a.weight", "HalfStorage", "0", [4, 8]),
            new("a.bias", "FloatStorage", "1", [8]),
            new("b.weight", "BFloat16Storage", "2", [2, 3, 5]),
            new("scale", "DoubleStorage", "3", []), // a scalar: size (), one element
        }), "0", "1", "2", "3");
        var tensors = Scan(bytes).Tensors;
        Assert.Null(tensors.UnknownReason);
        Assert.Equal(32 + 8 + 30 + 1, tensors.ParameterCount);
        Assert.Equal(4, tensors.TensorCount);
        Assert.Equal("F16", tensors.DominantDType);
    }

    [Fact]
    public void TiedWeightsCountOnceAndViewsOfOneStorageCountEach()
    {
        var bytes = TorchZip(StateDict(new Tensor[]
        {
            new("embed.weight", "FloatStorage", "0", [10, 4]),
            new("lm_head.weight", "FloatStorage", "0", [10, 4]), // tied: the same view of the same storage
            new("half.first", "FloatStorage", "1", [3]),
            new("half.second", "FloatStorage", "1", [3], Offset: 3), // another view of storage 1
        }), "0", "1");
        var tensors = Scan(bytes).Tensors;
        Assert.Equal(40 + 3 + 3, tensors.ParameterCount);
        Assert.Equal(3, tensors.TensorCount);
    }

    [Fact]
    public void LegacyFormatWithViewMetadataIsCounted()
    {
        // torch's pre-zip format: magic, protocol version and sys_info pickles, the state dict with six-item
        // persistent ids, the storage key list, then raw storage bytes.
        var stateDict = StateDict(new Tensor[]
            {
                new("w", "FloatStorage", "100", [6, 2]),
                new("v", "FloatStorage", "200", [4]),
            },
            legacy: true,
            views: new Dictionary<string, (string, long)> { ["v"] = ("201", 8) });
        var bytes = P("\u0080\u0002\u008a\u000a\u006c\u00fc\u009c\u0046\u00f9\u0020\u006a\u00a8\u0050\u0019.",
            "\u0080\u0002M\u00e9\u0003.", "\u0080\u0002}q\u0000.", stateDict,
            "\u0080\u0002]q\u0000(X\u0003\u0000\u0000\u0000100X\u0003\u0000\u0000\u0000200e.", new byte[] { 0xe2, 0x01, 0x02, 0x03 });
        var scan = Scan(bytes);
        Assert.Equal(5, scan.PickleCount);
        Assert.Null(scan.Tensors.UnknownReason);
        Assert.Equal(16, scan.Tensors.ParameterCount);
        Assert.Equal("F32", scan.Tensors.DominantDType);
    }

    [Fact]
    public void Protocol4WithStackGlobalMemoizeAndFramesIsCounted()
    {
        // torch.save(..., pickle_protocol=4): STACK_GLOBAL, MEMOIZE and BINGET instead of GLOBAL and BINPUT.
        var body = P(
            ShortUnicode("torch._utils"), "\u0094", ShortUnicode("_rebuild_tensor_v2"), "\u0094\u0093\u0094", // memo 0..2
            "((", ShortUnicode("storage"), "\u0094", ShortUnicode("torch"), "\u0094", ShortUnicode("BFloat16Storage"), "\u0094\u0093\u0094",
            ShortUnicode("0"), "\u0094", ShortUnicode("cpu"), "\u0094", Int(70000), "t\u0094Q",
            Int(0), Int(700), Int(100), "\u0086\u0094", Int(100), Int(1), "\u0086\u0094\u0089}\u0094t\u0094R\u0094",
            // the same callable again through the memo, on a second storage
            "h\u0002((h\u0003h\u0006", ShortUnicode("1"), "\u0094h\u0008", Int(5), "t\u0094Q", Int(0), Int(5), "\u0085\u0094", Int(1), "\u0085\u0094\u0089}\u0094tR",
            "\u0086.");
        var tensors = Scan(TorchZip(Framed(4, body), "0", "1")).Tensors;
        Assert.Null(tensors.UnknownReason);
        Assert.Equal(70005, tensors.ParameterCount);
        Assert.Equal("BF16", tensors.DominantDType);
    }

    [Fact]
    public void ParametersWrappingTensorsAreCountedOnce()
    {
        // torch.save(model) of nn.Parameter values: _rebuild_parameter(_rebuild_tensor_v2(...), requires_grad, hooks).
        var body = P("\u0080\u0002}(", Unicode("w"), "ctorch._utils\n_rebuild_parameter\n(ctorch._utils\n_rebuild_tensor_v2\n((",
            Unicode("storage"), "ctorch\nFloatStorage\n", Unicode("0"), Unicode("cpu"), Int(12), "tQ", Int(0), IntTuple([3, 4]), IntTuple([4, 1]),
            "\u0089ccollections\nOrderedDict\n)RtR\u0088ccollections\nOrderedDict\n)RtRu.");
        var tensors = Scan(TorchZip(body, "0")).Tensors;
        Assert.Equal(12, tensors.ParameterCount);
        Assert.Equal(1, tensors.TensorCount);
    }

    [Fact]
    public void LargeSizesWrittenAsLong1AreRead()
    {
        var tensors = Scan(TorchZip(StateDict(new Tensor[] { new("big", "ByteStorage", "0", [3_000_000_000L, 2]) }), "0")).Tensors;
        Assert.Equal(6_000_000_000L, tensors.ParameterCount);
        Assert.Equal("U8", tensors.DominantDType);
    }

    [Fact]
    public void OnlyDataPklCountsInAZip()
    {
        var tensor = StateDict(new Tensor[] { new("w", "FloatStorage", "0", [5]) });
        var bytes = Zip(("archive/data.pkl", tensor), ("archive/extra/other.pkl", StateDict(new Tensor[] { new("x", "FloatStorage", "9", [1000]) })));
        var scan = Scan(bytes);
        Assert.Equal(2, scan.Streams.Count);
        Assert.Equal(5, scan.Tensors.ParameterCount);
    }

    // ---- what the machine does not follow: unknown, with the reason ----

    public static TheoryData<string, byte[], string> NotFollowed => new()
    {
        { "sparse rebuild", P("\u0080\u0002ctorch._utils\n_rebuild_sparse_tensor\n)R."), "_rebuild_sparse_tensor" },
        { "rebuild without a storage", P("\u0080\u0002ctorch._utils\n_rebuild_tensor_v2\n(K\u0001K\u0000))tR."), "not a storage" },
        { "rebuild with a negative size", P("\u0080\u0002ctorch._utils\n_rebuild_tensor_v2\n((", Unicode("storage"), "ctorch\nFloatStorage\n",
            Unicode("0"), Unicode("cpu"), Int(4), "tQK\u0000J\u00ff\u00ff\u00ff\u00ff\u0085K\u0001\u0085tR."), "not a storage" },
        { "element count overflow", P("\u0080\u0002ctorch._utils\n_rebuild_tensor_v2\n((", Unicode("storage"), "ctorch\nFloatStorage\n",
            Unicode("0"), Unicode("cpu"), Int(4), "tQK\u0000", IntTuple([1L << 40, 1L << 40]), IntTuple([1, 1]), "tR."), "overflows" },
        { "REDUCE on an empty stack", P("\u0080\u0002R."), "more values than the stack holds" },
        { "SETITEMS without a mark", P("\u0080\u0002}K\u0001K\u0002u."), "MARK" },
        { "memo read before written", P("\u0080\u0002h\u0005."), "memo entry 5" },
        { "too deep", P(Enumerable.Repeat((byte)'N', PickleStackMachine.MaxStackDepth + 1).ToArray(), "."), "deeper" },
    };

    [Theory]
    [MemberData(nameof(NotFollowed))]
    public void WhatTheMachineCannotFollowIsUnknown(string why, byte[] pickle, string reason)
    {
        var scan = Scan(TorchZip(pickle));
        Assert.True(scan.Tensors.UnknownReason?.Contains(reason), $"{why}: {scan.Tensors.UnknownReason}");
        Assert.Contains("archive/data.pkl", scan.Tensors.UnknownReason);
        Assert.Null(scan.Tensors.ParameterCount);
        Assert.Null(scan.Tensors.TensorCount);
        Assert.Null(scan.Tensors.DominantDType);

        using var dir = new TempDirectory();
        var info = ModelFileInspector.Inspect(dir.Write("model.pt", TorchZip(pickle)));
        Assert.Equal(ModelFileFormat.PyTorch, info.Format);
        Assert.Null(info.ParameterCount);
        Assert.Null(info.Quantization);
    }

    [Fact]
    public void OneUnfollowedTensorMakesTheWholeCountUnknown()
    {
        var good = StateDict(new Tensor[] { new("w", "FloatStorage", "0", [5]) });
        var bad = P("\u0080\u0002ctorch._utils\n_rebuild_qtensor\n)R.");
        var scan = Scan(P(good, bad));
        Assert.Equal(2, scan.PickleCount);
        Assert.Null(scan.Tensors.ParameterCount);
        Assert.Contains("_rebuild_qtensor", scan.Tensors.UnknownReason);
    }

    [Fact]
    public void TensorsOfAnIncompleteTrailingPickleDoNotCount()
    {
        // A legacy file's raw storage bytes may look like opcodes for a while; only complete pickles count.
        var good = StateDict(new Tensor[] { new("w", "FloatStorage", "0", [5]) });
        var partial = StateDict(new Tensor[] { new("x", "FloatStorage", "1", [7]) })[..^2];
        var scan = Scan(P(good, partial));
        Assert.Equal(1, scan.PickleCount);
        Assert.NotNull(scan.Streams[0].StoppedAt);
        Assert.Equal(5, scan.Tensors.ParameterCount);
    }

    [Fact]
    public void LongTuplesAreKeptOpaque()
    {
        // A 65-item "size" is more than any tensor has: not followed, so the count is unknown.
        var size = Enumerable.Repeat(1L, PickleStackMachine.MaxTupleItems + 1).ToArray();
        var bytes = P("\u0080\u0002ctorch._utils\n_rebuild_tensor_v2\n((", Unicode("storage"), "ctorch\nFloatStorage\n",
            Unicode("0"), Unicode("cpu"), Int(1), "tQK\u0000", IntTuple(size), IntTuple(size), "tR.");
        Assert.Contains("not a storage", Scan(TorchZip(bytes)).Tensors.UnknownReason);
    }

    [Fact]
    public void TheValueBudgetBoundsMemory()
    {
        // Driven directly: a pickle that keeps pushing memoized values costs budget units until the machine gives up.
        var tally = new TorchTensorTally();
        var machine = new PickleStackMachine(tally, entry: null);
        machine.PushText(new string('x', 64));
        machine.Put(0);
        for (int i = 0; i < PickleStackMachine.MaxUnits; i++)
        {
            machine.Get(0);
            machine.Pop();
        }
        machine.Stop();
        Assert.Null(machine.Result);
        Assert.Contains("more than", tally.Summarize().UnknownReason);
    }

    [Fact]
    public void ManyMarksAndMemoEntriesStayKnown()
    {
        // Deep but within bounds: the count stays known (there are no tensors).
        var body = new List<byte>(P("\u0080\u0004"));
        for (int i = 0; i < 100_000; i++) body.AddRange(P("N\u0094"));
        body.AddRange(Enumerable.Repeat((byte)'(', 100_000));
        body.AddRange(Enumerable.Repeat((byte)'1', 100_000)); // POP_MARK each
        body.Add((byte)'.');
        var scan = Scan(body.ToArray());
        Assert.True(scan.IsSafe);
        Assert.Null(scan.Tensors.UnknownReason);
    }
}
