using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Writes pickles opcode by opcode, the zip and tar containers torch puts them in, and torch-style checkpoints whose
/// tensors the scan should count. Nothing here runs Python; the layouts follow torch/serialization.py (the tar
/// members follow the _save of torch's first releases and the legacy_load torch.load still has).
/// </summary>
internal static class PickleBuilder
{
    /// <summary>Scans bytes built by a test as if they were a file.</summary>
    public static PickleScanResult Scan(byte[] bytes) => PickleScanner.Scan(new MemoryStream(bytes), "built.pt");

    /// <summary>Concatenates pickle pieces: strings as Latin-1 bytes, byte arrays as they are, bytes as one byte.</summary>
    public static byte[] P(params object[] parts)
    {
        var bytes = new List<byte>();
        foreach (var part in parts)
        {
            switch (part)
            {
                case string s: bytes.AddRange(Encoding.Latin1.GetBytes(s)); break;
                case byte[] b: bytes.AddRange(b); break;
                case byte b: bytes.Add(b); break;
                default: throw new ArgumentException(part.GetType().Name);
            }
        }
        return bytes.ToArray();
    }

    public static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
    public static byte[] U64(ulong v) { var b = new byte[8]; BinaryPrimitives.WriteUInt64LittleEndian(b, v); return b; }
    public static byte[] ShortUnicode(string s) => P((byte)0x8c, (byte)Encoding.UTF8.GetByteCount(s), Encoding.UTF8.GetBytes(s));
    public static byte[] Unicode(string s) => P("X", U32((uint)Encoding.UTF8.GetByteCount(s)), Encoding.UTF8.GetBytes(s));

    /// <summary>An integer as Python's pickler writes it for protocol 2: BININT1, BININT2, BININT, else LONG1.</summary>
    public static byte[] Int(long value)
    {
        if (value is >= 0 and < 256) return P("K", (byte)value);
        if (value is >= 0 and < 65536) return P("M", (byte)value, (byte)(value >> 8));
        if (value is >= int.MinValue and <= int.MaxValue) return P("J", U32(unchecked((uint)(int)value)));
        var bytes = new List<byte>();
        long rest = value;
        do
        {
            bytes.Add((byte)rest);
            rest >>= 8;
        }
        while (!(rest == 0 && (bytes[^1] & 0x80) == 0) && !(rest == -1 && (bytes[^1] & 0x80) != 0));
        return P((byte)0x8a, (byte)bytes.Count, bytes.ToArray());
    }

    /// <summary>A tuple of integers (a size or a stride), with the short-tuple opcodes the pickler prefers.</summary>
    public static byte[] IntTuple(IReadOnlyList<long> values) => values.Count switch
    {
        0 => P(")"),
        1 => P(Int(values[0]), (byte)0x85),
        2 => P(Int(values[0]), Int(values[1]), (byte)0x86),
        3 => P(Int(values[0]), Int(values[1]), Int(values[2]), (byte)0x87),
        _ => P("(", values.Select(Int).SelectMany(b => b).ToArray(), "t"),
    };

    public static byte[] Framed(int protocol, byte[] body) => P("\u0080", (byte)protocol, "\u0095", U64((ulong)body.Length), body);

    /// <summary>One tensor of a checkpoint: its state_dict name, storage type tag, storage key, offset, size and stride.</summary>
    public sealed record Tensor(string Name, string StorageType, string Key, long[] Size, long Offset = 0, long[]? Stride = null)
    {
        public long[] Strides => Stride ?? Contiguous(Size);
        public long Elements => Size.Aggregate(1L, (a, b) => a * b);

        private static long[] Contiguous(long[] size)
        {
            var stride = new long[size.Length];
            long step = 1;
            for (int i = size.Length - 1; i >= 0; i--)
            {
                stride[i] = step;
                step *= size[i];
            }
            return stride;
        }
    }

    /// <summary>
    /// A state_dict pickled the way torch.save does (protocol 2): an OrderedDict filled by SETITEMS, every value a
    /// REDUCE of <c>_rebuild_tensor_v2</c> on a BINPERSID storage. <paramref name="legacy"/> writes the legacy
    /// format's six-item persistent id, with the view given for tensors that have one.
    /// </summary>
    public static byte[] StateDict(IReadOnlyList<Tensor> tensors, bool legacy = false, IReadOnlyDictionary<string, (string ViewKey, long ViewOffset)>? views = null)
    {
        var body = new List<byte[]> { P("\u0080\u0002ccollections\nOrderedDict\n)R(") };
        foreach (var t in tensors)
        {
            long storageNumel = t.Offset + t.Elements;
            byte[] viewMetadata = views is not null && views.TryGetValue(t.Name, out var view)
                ? P(Unicode(view.ViewKey), Int(view.ViewOffset), Int(t.Elements), (byte)0x87)
                : P("N");
            body.Add(P(Unicode(t.Name), "ctorch._utils\n_rebuild_tensor_v2\n",
                "((", Unicode("storage"), "ctorch\n", t.StorageType, "\n", Unicode(t.Key), Unicode("cpu"), Int(storageNumel),
                legacy ? viewMetadata : Array.Empty<byte>(), "tQ",
                Int(t.Offset), IntTuple(t.Size), IntTuple(t.Strides), "\u0089ccollections\nOrderedDict\n)Rt", "R"));
        }
        body.Add(P("u."));
        return body.SelectMany(b => b).ToArray();
    }

    /// <summary>A zip archive with the given entries (stored in the order given), as torch.save and torch.jit.save write them.</summary>
    public static byte[] Zip(params (string Name, byte[] Data)[] entries)
    {
        var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                using var entry = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                entry.Write(data);
            }
        }
        return stream.ToArray();
    }

    /// <summary>
    /// What torch.jit.save writes for a module with one F32 parameter of <paramref name="elements"/> elements: the module
    /// object in data.pkl (a <c>__torch__</c> class, as TorchScript names compiled classes), constants.pkl (here
    /// <paramref name="constantsPkl"/>, else an empty tuple), and the compiled source under code/ with its debug pickle.
    /// </summary>
    public static byte[] TorchScriptZip(int elements = 6, byte[]? constantsPkl = null, byte[]? dataPkl = null) => Zip(
        ("model/data.pkl", dataPkl ?? P("\u0080\u0002c__torch__\nMyModule\n)\u0081}(", Unicode("weight"), "ctorch._utils\n_rebuild_tensor_v2\n((",
            Unicode("storage"), "ctorch\nFloatStorage\n", Unicode("0"), Unicode("cpu"), Int(elements), "tQ", Int(0), IntTuple([elements]), IntTuple([1]),
            "\u0089ccollections\nOrderedDict\n)RtRub.")),
        ("model/code/__torch__.py", "class MyModule(Module):\n  weight : Tensor\n  def forward(self: __torch__.MyModule, x: Tensor) -> Tensor:\n    return x\n"u8.ToArray()),
        ("model/code/__torch__.py.debug_pkl", P("\u0080\u0002).")),
        ("model/constants.pkl", constantsPkl ?? P("\u0080\u0002).")),
        ("model/data/0", new byte[4 * elements]),
        ("model/version", "3\n"u8.ToArray()));

    /// <summary>A tar archive (PAX, as Python's tarfile writes for torch) holding the members in the order given.</summary>
    public static byte[] Tar(params (string Name, byte[] Data)[] members) => Tar(TarEntryFormat.Pax, members);

    public static byte[] Tar(TarEntryFormat format, params (string Name, byte[] Data)[] members)
    {
        var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, format, leaveOpen: true))
        {
            foreach (var (name, data) in members)
            {
                TarEntry entry = format switch
                {
                    TarEntryFormat.V7 => new V7TarEntry(TarEntryType.V7RegularFile, name),
                    TarEntryFormat.Ustar => new UstarTarEntry(TarEntryType.RegularFile, name),
                    _ => new PaxTarEntry(TarEntryType.RegularFile, name),
                };
                entry.DataStream = new MemoryStream(data);
                tar.WriteEntry(entry);
            }
        }
        return stream.ToArray();
    }

    /// <summary>The legacy tar's sys_info pickle: protocol version 1000, little-endian, the C type sizes.</summary>
    public static readonly byte[] LegacySysInfo = P("\u0080\u0002}(", Unicode("protocol_version"), Int(1000), Unicode("little_endian"), "\u0088",
        Unicode("type_sizes"), "}(", Unicode("short"), Int(2), Unicode("int"), Int(4), Unicode("long"), Int(8), "uu.");

    /// <summary>The legacy tar's pickle member: an OrderedDict of name to tensor, each tensor a BINPERSID of its key as text.</summary>
    public static byte[] LegacyObjectPickle(params (string Name, long Key)[] tensors) => P("\u0080\u0002ccollections\nOrderedDict\n)R(",
        tensors.SelectMany(t => P(Unicode(t.Name), Unicode(t.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)), "Q")).ToArray(), "u.");

    /// <summary>One storage's pickled (key, location, storage_type), as the storages member writes it before the data.</summary>
    public static byte[] LegacyStorageArgs(long key, string storageType) => P("\u0080\u0002(", Int(key), Unicode("cpu"), "ctorch\n", storageType, "\ntq\u0000.");

    /// <summary>One tensor's pickled (key, storage_id, tensor_type), as the tensors member writes it before the sizes.</summary>
    public static byte[] LegacyTensorArgs(long key, long storageKey, string tensorType) => P("\u0080\u0002", Int(key), Int(storageKey), "ctorch\n", tensorType, "\n\u0087q\u0000.");

    /// <summary>The storages member: the count, each storage's arguments, element count and raw elements, then the views.</summary>
    public static byte[] LegacyStorages(byte[]? views = null, params (byte[] Args, long Elements, int ElementSize)[] storages) => P(
        P("\u0080\u0002", Int(storages.Length), "."),
        storages.SelectMany(s => P(s.Args, U64((ulong)s.Elements), new byte[s.Elements * s.ElementSize])).ToArray(),
        views ?? P("\u0080\u0002]."));

    /// <summary>The tensors member: the count, then each tensor's arguments, ndim (8 bytes), sizes, contiguous strides and offset 0.</summary>
    public static byte[] LegacyTensors(params (byte[] Args, long[] Size)[] tensors) => P(
        P("\u0080\u0002", Int(tensors.Length), "."),
        tensors.SelectMany(t => P(t.Args, U64((ulong)t.Size.Length), t.Size.SelectMany(d => U64((ulong)d)).ToArray(),
            new Tensor("", "", "", t.Size).Strides.SelectMany(d => U64((ulong)d)).ToArray(), U64(0))).ToArray());

    /// <summary>
    /// A legacy tar checkpoint of two tensors, w (F32 [3, 4] on storage 11) and b (F16 [10] on storage 12), with any
    /// member replaced by the test's own bytes.
    /// </summary>
    public static byte[] LegacyTarCheckpoint(byte[]? pickle = null, byte[]? tensors = null, byte[]? storages = null, string pickleName = "pickle") => Tar(
        ("sys_info", LegacySysInfo),
        (pickleName, pickle ?? LegacyObjectPickle(("w", 1), ("b", 2))),
        ("tensors", tensors ?? LegacyTensors((LegacyTensorArgs(1, 11, "FloatTensor"), [3, 4]), (LegacyTensorArgs(2, 12, "HalfTensor"), [10]))),
        ("storages", storages ?? LegacyStorages(null, (LegacyStorageArgs(11, "FloatStorage"), 12, 4), (LegacyStorageArgs(12, "HalfStorage"), 10, 2))));

    /// <summary>A torch.save zip archive: <c>archive/data.pkl</c>, <c>archive/version</c> and one data file per storage key.</summary>
    public static byte[] TorchZip(byte[] dataPkl, params string[] storageKeys) =>
        Zip(new[] { ("archive/data.pkl", dataPkl), ("archive/version", "3\n"u8.ToArray()) }
            .Concat(storageKeys.Select(k => ($"archive/data/{k}", new byte[16])))
            .ToArray());
}
