using ModelLibrary.Formats;
using ModelLibrary.Library;
using static ModelLibrary.Tests.Formats.PickleBuilder;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// TorchScript archives (torch.jit.save's zip layout: code/ and constants.pkl), built here: reported as a finding of
/// their own, unsafe whatever their pickles import, with those pickles still scanned.
/// </summary>
public class TorchScriptTests
{
    [Fact]
    public void ATorchScriptArchiveIsReportedAsCodeAndIsUnsafe()
    {
        var scan = Scan(TorchScriptZip());
        Assert.True(scan.ContainsTorchScript);
        Assert.Equal(new[] { "model/code/__torch__.py", "model/code/__torch__.py.debug_pkl", "model/constants.pkl" }, scan.TorchScript!.Entries.Order(StringComparer.Ordinal));
        Assert.Equal(3, scan.TorchScript.EntryCount);
        Assert.False(scan.IsSafe);
        Assert.Equal(PickleVerdict.Unsafe, scan.Verdict);

        var ex = Assert.Throws<ModelSecurityException>(scan.ThrowIfUnsafe);
        Assert.Equal(ErrorIds.UnsafeModelContent, ex.ErrorId);
        Assert.Contains("TorchScript code", ex.Message);
        Assert.Contains("model/code/__torch__.py", ex.Message);
        Assert.Contains("__torch__.MyModule", ex.Message);
        Assert.Equal(scan.TorchScript.Entries.ToArray(), ex.ErrorInfo.Details["torchscript_code"]);
    }

    [Fact]
    public void ItsPicklesAreStillScanned()
    {
        var scan = Scan(TorchScriptZip(constantsPkl: P("\u0080\u0002cposix\nsystem\n(S'id'\ntR.")));
        Assert.Equal(new[] { "model/constants.pkl", "model/data.pkl" }, scan.Streams.Select(s => s.Entry).Order(StringComparer.Ordinal));
        var system = Assert.Single(scan.UnsafeGlobals, g => g.FullName == "posix.system");
        Assert.Equal("model/constants.pkl", system.Entry);
        Assert.Contains("__torch__.MyModule", scan.UnsafeGlobalNames);
        var message = scan.DescribeUnsafeContent();
        Assert.Contains("TorchScript code", message);
        Assert.Contains("posix.system", message);
        // data.pkl's tensors are counted like any checkpoint's.
        Assert.Equal(6, scan.Tensors.ParameterCount);
    }

    [Fact]
    public void CodeMakesAnArchiveUnsafeEvenWhenItsPicklesImportOnlyAllowedGlobals()
    {
        var dataPkl = StateDict(new Tensor[] { new("w", "FloatStorage", "0", [6]) });
        var scan = Scan(TorchScriptZip(dataPkl: dataPkl));
        Assert.Empty(scan.UnsafeGlobalNames);
        Assert.All(scan.Globals, g => Assert.True(g.IsSafe));
        Assert.False(scan.IsSafe);
        Assert.StartsWith("TorchScript code, which torch.jit.load compiles and runs", scan.DescribeUnsafeContent());

        using var dir = new TempDirectory();
        var info = ModelFileInspector.Inspect(dir.Write("model.pt", TorchScriptZip(dataPkl: dataPkl)));
        Assert.Equal(ModelFileFormat.PyTorch, info.Format);
        Assert.Equal("TorchScript zip, pickle protocol 2", info.FormatVersion);
        Assert.False(info.IsSafe);
        Assert.Throws<ModelSecurityException>(() => ModelFileInspector.ThrowIfUnsafe(info));

        var metadata = ModelMetadataReader.FromHeader(info);
        Assert.True(metadata.ContainsTorchScript);
        Assert.False(metadata.IsSafe);
        Assert.Empty(metadata.UnsafeGlobals);
    }

    [Fact]
    public void TheFirstTorchScriptLayoutWithoutPicklesIsStillRecognised()
    {
        // torch 1.0 to 1.3 wrote model.json and tensors/ beside code/, with no pickle at all.
        var bytes = Zip(("model/code/model.py", "op_version_set = 0\n"u8.ToArray()), ("model/model.json", "{}"u8.ToArray()), ("model/tensors/0", new byte[8]));
        var scan = Scan(bytes);
        Assert.True(scan.ContainsTorchScript);
        Assert.Equal(0, scan.PickleCount);
        Assert.False(scan.IsSafe);

        using var dir = new TempDirectory();
        var info = ModelFileInspector.Inspect(dir.Write("model.pt", bytes));
        Assert.Equal(ModelFileFormat.PyTorch, info.Format);
        Assert.Equal("TorchScript zip", info.FormatVersion);
        Assert.False(info.IsSafe);
    }

    [Theory]
    [InlineData("code/x.py", true)]
    [InlineData("archive/code/__torch__/model.py", true)]
    [InlineData("archive\\code\\m.py", true)]
    [InlineData("constants.pkl", true)]
    [InlineData("archive/constants.pkl", true)]
    [InlineData("archive/code/", false)] // a folder entry alone
    [InlineData("code", false)]
    [InlineData("archive/extra/code/notes.txt", false)] // torch reads code/ only below the top folder
    [InlineData("a/b/constants.pkl", false)]
    [InlineData("archive/data.pkl", false)]
    [InlineData("archive/constants.pkl.bak", false)]
    public void WhichEntriesAreTorchScript(string entry, bool expected) => Assert.Equal(expected, PickleScanner.IsTorchScriptEntry(entry));

    [Fact]
    public void ATorchSaveArchiveIsNotTorchScript()
    {
        var scan = PickleScanner.Scan(Fixtures.File("pickle", "new_pytorch_model.bin"));
        Assert.False(scan.ContainsTorchScript);
        Assert.Null(scan.TorchScript);
        Assert.True(scan.IsSafe);
        Assert.Null(scan.DescribeUnsafeContent());
    }

    [Fact]
    public void LongListsOfCodeFilesAreCut()
    {
        var entries = Enumerable.Range(0, 50).Select(i => ($"m/code/__torch__/f{i}.py", "pass\n"u8.ToArray())).Append(("m/data.pkl", P("\u0080\u0002).")));
        var scan = Scan(Zip(entries.ToArray()));
        Assert.Equal(50, scan.TorchScript!.EntryCount);
        Assert.Equal(TorchScriptCode.MaxListed, scan.TorchScript.Entries.Count);
        Assert.EndsWith(", ...)", scan.TorchScript.ToString());
    }
}
