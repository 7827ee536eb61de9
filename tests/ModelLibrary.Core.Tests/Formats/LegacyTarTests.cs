using System.Formats.Tar;
using ModelLibrary.Formats;
using static ModelLibrary.Tests.Formats.PickleBuilder;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// The tar format of torch's first releases (members sys_info, pickle, tensors, storages), built here with
/// <see cref="PickleBuilder.LegacyTarCheckpoint"/>: recognised as PyTorch, every pickle torch.load would unpickle
/// scanned (also those that follow raw storage data), and the tensors counted from their sizes.
/// </summary>
public class LegacyTarTests
{
    [Fact]
    public void ALegacyTarIsRecognisedScannedAndCounted()
    {
        var bytes = LegacyTarCheckpoint();
        using var dir = new TempDirectory();
        var path = dir.Write("model.pt", bytes);
        Assert.Equal(ModelFileFormat.PyTorch, ModelFileInspector.DetectFormat(path));

        var info = ModelFileInspector.Inspect(path);
        Assert.Equal(ModelFileFormat.PyTorch, info.Format);
        Assert.Equal("PyTorch legacy tar, pickle protocol 2", info.FormatVersion);
        Assert.True(info.IsSafe);
        Assert.Equal(12 + 10, info.ParameterCount);
        Assert.Equal(2, info.TensorCount);
        Assert.Equal("F32", info.Quantization);

        var scan = info.Pickle!;
        Assert.Equal(PickleContainer.LegacyTar, scan.Container);
        Assert.Equal(new[] { "sys_info", "pickle", "tensors", "storages" }, scan.Streams.Select(s => s.Entry));
        // tensors: the count and two argument pickles; storages: the count, two argument pickles and the views.
        Assert.Equal(new[] { 1, 1, 3, 4 }, scan.Streams.Select(s => s.PickleCount));
        Assert.All(scan.Streams, s => Assert.Null(s.StoppedAt));
        Assert.Equal(
            new[] { "collections.OrderedDict", "torch.FloatStorage", "torch.FloatTensor", "torch.HalfStorage", "torch.HalfTensor" },
            scan.Globals.Select(g => g.FullName).Order(StringComparer.Ordinal));
        Assert.All(scan.Globals, g => Assert.True(g.IsSafe, g.ToString()));
    }

    [Theory]
    [InlineData(TarEntryFormat.V7)]
    [InlineData(TarEntryFormat.Ustar)]
    [InlineData(TarEntryFormat.Gnu)]
    [InlineData(TarEntryFormat.Pax)]
    public void EveryTarHeaderFormatIsRecognised(TarEntryFormat format)
    {
        var bytes = Tar(format, ("sys_info", LegacySysInfo), ("pickle", LegacyObjectPickle()), ("tensors", LegacyTensors()), ("storages", LegacyStorages()));
        Assert.True(PickleScanner.IsTar(bytes));
        Assert.Equal(PickleContainer.LegacyTar, Scan(bytes).Container);
    }

    [Fact]
    public void OtherBytesAreNotATar()
    {
        var header = LegacyTarCheckpoint()[..PickleScanner.TarBlockSize];
        Assert.True(PickleScanner.IsTar(header));
        var changed = (byte[])header.Clone();
        changed[10] ^= 1; // the name changes, the checksum no longer matches
        Assert.False(PickleScanner.IsTar(changed));
        Assert.False(PickleScanner.IsTar(new byte[PickleScanner.TarBlockSize]));
        Assert.False(PickleScanner.IsTar(header[..100]));
        Assert.False(PickleScanner.IsTar(File.ReadAllBytes(Fixtures.File("pickle", "pytorch_model.bin"))));
    }

    public static TheoryData<string, byte[], string> HiddenImports => new()
    {
        // A call in the object pickle itself.
        { "pickle", LegacyTarCheckpoint(pickle: P("\u0080\u0002cposix\nsystem\n(", Unicode("id"), "tR.")), "posix.system" },
        // The second storage's arguments, which follow the first storage's raw bytes.
        { "storages", LegacyTarCheckpoint(storages: LegacyStorages(null,
            (LegacyStorageArgs(11, "FloatStorage"), 12, 4),
            (P("\u0080\u0002cposix\nsystem\n(", Unicode("id"), "tR0(", Int(12), Unicode("cpu"), "ctorch\nHalfStorage\nt."), 10, 2))), "posix.system" },
        // The views pickle, after every storage's data.
        { "storages", LegacyTarCheckpoint(storages: LegacyStorages(P("\u0080\u0002cbuiltins\nexec\n(", Unicode("x"), "tR."),
            (LegacyStorageArgs(11, "FloatStorage"), 12, 4), (LegacyStorageArgs(12, "HalfStorage"), 10, 2))), "builtins.exec" },
        // The second tensor's arguments, after the first tensor's sizes and strides.
        { "tensors", LegacyTarCheckpoint(tensors: LegacyTensors((LegacyTensorArgs(1, 11, "FloatTensor"), [3, 4]),
            (P("\u0080\u0002K\u0002K\u000cc__main__\nEvil\n\u0087."), [10]))), "__main__.Evil" },
    };

    [Theory]
    [MemberData(nameof(HiddenImports))]
    public void ImportsInAnyPickleTorchLoadReadsAreFound(string member, byte[] bytes, string global)
    {
        var scan = Scan(bytes);
        var found = Assert.Single(scan.UnsafeGlobals);
        Assert.Equal(global, found.FullName);
        Assert.Equal(member, found.Entry);
        Assert.False(scan.IsSafe);
        Assert.Contains(global, Assert.Throws<ModelSecurityException>(scan.ThrowIfUnsafe).Message);
    }

    [Fact]
    public void MemberNamesAreReadAsTorchLoadLooksThemUp()
    {
        var scan = Scan(LegacyTarCheckpoint(pickle: P("\u0080\u0002cos\nsystem\n)R."), pickleName: "./pickle"));
        Assert.Contains("os.system", scan.UnsafeGlobalNames);
        Assert.Equal("pickle", scan.Streams[1].Entry);
    }

    [Fact]
    public void ATarWithoutAPickleMemberIsNotATorchCheckpoint()
    {
        var bytes = Tar(("readme.txt", "hello\n"u8.ToArray()));
        Assert.Contains("'pickle'", Assertions.InvalidFile(() => Scan(bytes)).Message);
        using var dir = new TempDirectory();
        Assert.Equal(ModelFileFormat.Unknown, ModelFileInspector.Inspect(dir.Write("model.pt", bytes)).Format);
    }

    public static TheoryData<string, byte[], string> Broken => new()
    {
        { "storage data past the member's end", LegacyTarCheckpoint(storages: LegacyStorages(null, (LegacyStorageArgs(11, "FloatStorage"), 12, 4))[..^20]), "storage" },
        { "a storage type that is not one", LegacyTarCheckpoint(storages: LegacyStorages(null, (P("\u0080\u0002(K\u000bX\u0003\u0000\u0000\u0000cpucbuiltins\neval\nt."), 12, 4))),
            "builtins.eval" },
        { "no storage count", LegacyTarCheckpoint(storages: P("\u0080\u0002N.")), "count" },
        { "tensor sizes past the member's end", LegacyTarCheckpoint(tensors: LegacyTensors((LegacyTensorArgs(1, 11, "FloatTensor"), [3, 4]))[..^12]), "tensors" },
        { "a negative ndim", LegacyTarCheckpoint(tensors: P("\u0080\u0002K\u0001.", LegacyTensorArgs(1, 11, "FloatTensor"), U64(ulong.MaxValue))), "dimensions" },
        { "a corrupt object pickle", LegacyTarCheckpoint(pickle: P("\u0080\u0002ccollections\nOrderedDict")), "tar member 'pickle'" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void WhatCannotBeFollowedIsInvalid(string why, byte[] bytes, string message)
    {
        var ex = Assertions.InvalidFile(() => Scan(bytes));
        Assert.True(ex.Message.Contains(message), $"{why}: {ex.Message}");
    }

    [Fact]
    public void ATruncatedTarIsInvalid()
    {
        var bytes = LegacyTarCheckpoint();
        Assertions.InvalidFile(() => Scan(bytes[..(bytes.Length / 2)]));
    }

    [Fact]
    public void ATensorWithTooManyDimensionsLeavesTheCountUnknown()
    {
        var size = Enumerable.Repeat(1L, 70).ToArray();
        var scan = Scan(LegacyTarCheckpoint(tensors: LegacyTensors((LegacyTensorArgs(1, 11, "FloatTensor"), size))));
        Assert.True(scan.IsSafe);
        Assert.Null(scan.Tensors.ParameterCount);
        Assert.Contains("70 dimensions", scan.Tensors.UnknownReason);
    }

    [Fact]
    public void TiedTensorsInTheTensorsMemberCountOnce()
    {
        var scan = Scan(LegacyTarCheckpoint(tensors: LegacyTensors(
            (LegacyTensorArgs(1, 11, "FloatTensor"), [3, 4]), (LegacyTensorArgs(1, 11, "FloatTensor"), [3, 4]), (LegacyTensorArgs(2, 12, "HalfTensor"), [10]))));
        Assert.Equal(22, scan.Tensors.ParameterCount);
        Assert.Equal(2, scan.Tensors.TensorCount);
    }
}
