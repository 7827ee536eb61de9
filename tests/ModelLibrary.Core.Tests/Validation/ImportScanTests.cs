using System.Buffers.Binary;
using System.Text;
using ModelLibrary.Formats;
using ModelLibrary.Tests.Formats;
using static ModelLibrary.Tests.Formats.PickleBuilder;

namespace ModelLibrary.Tests.Validation;

/// <summary>
/// What an import copies is scanned first (issue 17): every file of a folder a loader could unpickle, and a file whose
/// name says pickle even when its bytes also read as safetensors. Nothing refused is copied or registered.
/// </summary>
public class ImportScanTests
{
    private static readonly byte[] Evil = P("\u0080\u0002cposix\nsystem\n(", Unicode("id"), "tR.");

    /// <summary>
    /// A valid safetensors file (one F32 tensor) whose first bytes are also a pickle: its header length 0x634E reads as
    /// NONE and GLOBAL, the GLOBAL's two lines end at newlines the JSON holds as whitespace, and the number 0.5 after
    /// the second is POP and STOP.
    /// </summary>
    internal static byte[] SafetensorsPickle()
    {
        const int headerLength = 0x634E;
        var json = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"a\":\n1,\"b\":\n0.5}}".PadRight(headerLength);
        var bytes = new byte[8 + headerLength + 4];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength);
        Encoding.ASCII.GetBytes(json).CopyTo(bytes, 8);
        return bytes;
    }

    [Fact]
    public void ThePolyglotIsBothFormats()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("model.safetensors", SafetensorsPickle());
        Assert.Single(SafetensorsReader.Read(path).Tensors);
        Assert.Equal("pickle", Python.Run("import sys,pickletools;ops=list(pickletools.genops(open(sys.argv[1],'rb').read()));print('pickle' if ops[-1][0].name=='STOP' else 'no')", path));
    }

    [Theory]
    [InlineData("pytorch_model.bin")]
    [InlineData("weights.pkl")]
    public async Task A_safetensors_file_named_as_a_pickle_that_is_also_one_is_refused(string name)
    {
        using var lib = new TestLibrary();
        var source = lib.Write(Path.Combine(lib.Outside, "poly", name), SafetensorsPickle());

        var e = await Assert.ThrowsAsync<ModelSecurityException>(() => ImportTests.Import(lib, source));
        Assert.Equal(ErrorIds.UnsafeModelContent, e.ErrorId);
        Assert.Contains("both a safetensors file and a pickle", e.Message);
        Assert.Empty(lib.Service.Models.List());
    }

    [Fact]
    public async Task The_same_bytes_named_safetensors_are_only_safetensors()
    {
        using var lib = new TestLibrary();
        var model = await ImportTests.Import(lib, lib.Write(Path.Combine(lib.Outside, "poly", "model.safetensors"), SafetensorsPickle()));
        Assert.Equal("safetensors", model.Format);
    }

    [Fact]
    public async Task A_folder_with_an_unsafe_checkpoint_beside_the_model_is_refused_and_nothing_is_copied()
    {
        using var lib = new TestLibrary();
        var folder = Path.Combine(lib.Outside, "trained");
        lib.Write(Path.Combine(folder, "model.safetensors"), SafetensorsBuilder.Build(null, ("a", "F32", new long[] { 4 })));
        lib.Write(Path.Combine(folder, "checkpoint-500", "optimizer.pt"), Evil);

        var e = await Assert.ThrowsAsync<ModelSecurityException>(() => ImportTests.Import(lib, folder));
        Assert.Equal(ErrorIds.UnsafeModelContent, e.ErrorId);
        Assert.Contains("optimizer.pt", e.Message);
        Assert.Contains("posix.system", e.Message);
        Assert.False(Directory.Exists(Path.Combine(lib.Configuration.TransformersModelsDirectory, "trained")));
        Assert.Empty(lib.Service.Models.List());
    }

    [Fact]
    public async Task A_pickle_without_a_pickle_name_in_a_folder_is_scanned_by_its_content()
    {
        using var lib = new TestLibrary();
        var folder = Path.Combine(lib.Outside, "trained");
        lib.Write(Path.Combine(folder, "model.safetensors"), SafetensorsBuilder.Build(null, ("a", "F32", new long[] { 4 })));
        lib.Write(Path.Combine(folder, "rng_state"), Evil);

        var e = await Assert.ThrowsAsync<ModelSecurityException>(() => ImportTests.Import(lib, folder));
        Assert.Contains("rng_state", e.Message);
    }

    [Fact]
    public async Task A_folder_whose_other_files_are_safe_is_imported_whole()
    {
        using var lib = new TestLibrary();
        var folder = Path.Combine(lib.Outside, "trained");
        lib.Write(Path.Combine(folder, "model.safetensors"), SafetensorsBuilder.Build(null, ("a", "F32", new long[] { 4 })));
        lib.Write(Path.Combine(folder, "checkpoint-500", "optimizer.pt"), P("\u0080\u0002}q\u0000."));
        lib.Write(Path.Combine(folder, "images.zip"), Zip(("a.txt", "not a pickle"u8.ToArray())));

        var model = await ImportTests.Import(lib, folder);
        Assert.True(File.Exists(Path.Combine(lib.Configuration.TransformersModelsDirectory, model.Id, "checkpoint-500", "optimizer.pt")));
    }

    [Fact]
    public async Task A_file_named_as_a_pickle_in_a_folder_that_cannot_be_scanned_is_refused()
    {
        using var lib = new TestLibrary();
        var folder = Path.Combine(lib.Outside, "trained");
        lib.Write(Path.Combine(folder, "model.safetensors"), SafetensorsBuilder.Build(null, ("a", "F32", new long[] { 4 })));
        lib.Write(Path.Combine(folder, "optimizer.pt"), "\u0080\u0002cposix\nsys"u8.ToArray());

        var e = await Assert.ThrowsAsync<ValidationException>(() => ImportTests.Import(lib, folder));
        Assert.Equal(ErrorIds.InvalidModelFile, e.ErrorId);
        Assert.Empty(lib.Service.Models.List());
    }
}
