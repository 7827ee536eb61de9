using System.Buffers.Binary;
using System.Text;
using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>A nested GGUF array value for <see cref="GgufBuilder"/>.</summary>
internal sealed record GgufArray(GgufValueType ElementType, params object[] Items);

/// <summary>
/// Writes GGUF files for tests, little- or big-endian, v2 or v3, with any metadata value type, nested arrays,
/// tensors with zero-filled data, and raw bytes for hostile cases. Sizes come from its own small table so the
/// reader's table is checked, not reused.
/// </summary>
internal sealed class GgufBuilder
{
    // (block size, bytes per block) for the ggml types tests use.
    private static readonly Dictionary<uint, (int Block, int Bytes)> TestTypes = new()
    {
        [0] = (1, 4),     // F32
        [1] = (1, 2),     // F16
        [2] = (32, 18),   // Q4_0
        [8] = (32, 34),   // Q8_0
        [12] = (256, 144), // Q4_K
        [14] = (256, 210), // Q6_K
        [30] = (1, 2),    // BF16
        [40] = (64, 36),  // NVFP4
        [41] = (128, 18), // Q1_0
    };

    private readonly List<Action<BinWriter>> _kvs = new();
    private readonly List<(string Name, long[] Dims, uint Type)> _tensors = new();

    public uint Version { get; set; } = 3;
    public bool BigEndian { get; set; }
    public uint Alignment { get; set; } = 32;
    /// <summary>Overrides the declared counts, for hostile headers.</summary>
    public ulong? DeclaredKvCount { get; set; }
    public ulong? DeclaredTensorCount { get; set; }
    /// <summary>Leaves the tensor data out (a truncated download).</summary>
    public bool OmitTensorData { get; set; }

    public GgufBuilder String(string key, string value) => Raw(key, w => { w.U32((uint)GgufValueType.String); w.Str(value); });

    public GgufBuilder Value(string key, GgufValueType type, object value) => Raw(key, w =>
    {
        w.U32((uint)type);
        WriteValue(w, type, value);
    });

    public GgufBuilder Array(string key, GgufValueType elementType, params object[] items) =>
        Value(key, GgufValueType.Array, new GgufArray(elementType, items));

    /// <summary>A key followed by hand-written type and value bytes.</summary>
    public GgufBuilder Raw(string key, Action<BinWriter> typeAndValue)
    {
        _kvs.Add(w =>
        {
            w.Str(key);
            typeAndValue(w);
        });
        return this;
    }

    public GgufBuilder Tensor(string name, uint type, params long[] dims)
    {
        _tensors.Add((name, dims, type));
        return this;
    }

    public static long TensorBytes(uint type, long[] dims)
    {
        var (block, bytes) = TestTypes[type];
        long elements = dims.Aggregate(1L, (a, b) => a * b);
        return elements / block * bytes;
    }

    public byte[] Build()
    {
        var w = new BinWriter(BigEndian);
        w.Bytes("GGUF"u8.ToArray());
        w.U32(Version);
        w.U64(DeclaredTensorCount ?? (ulong)_tensors.Count);
        w.U64(DeclaredKvCount ?? (ulong)_kvs.Count);
        foreach (var kv in _kvs) kv(w);

        long offset = 0;
        long dataLength = 0;
        foreach (var (name, dims, type) in _tensors)
        {
            w.Str(name);
            w.U32((uint)dims.Length);
            foreach (long d in dims) w.U64((ulong)d);
            w.U32(type);
            w.U64((ulong)offset);
            long size = TensorBytes(type, dims);
            dataLength = offset + size;
            offset = Align(offset + size, Alignment);
        }
        if (_tensors.Count > 0 && !OmitTensorData)
        {
            w.Bytes(new byte[Align(w.Length, Alignment) - w.Length]);
            w.Bytes(new byte[dataLength]);
        }
        return w.ToArray();
    }

    private static long Align(long value, uint alignment) => (value + alignment - 1) / alignment * alignment;

    private static void WriteValue(BinWriter w, GgufValueType type, object value)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.U8(Convert.ToByte(value)); break;
            case GgufValueType.Int8: w.U8(unchecked((byte)Convert.ToSByte(value))); break;
            case GgufValueType.UInt16: w.U16(Convert.ToUInt16(value)); break;
            case GgufValueType.Int16: w.U16(unchecked((ushort)Convert.ToInt16(value))); break;
            case GgufValueType.UInt32: w.U32(Convert.ToUInt32(value)); break;
            case GgufValueType.Int32: w.U32(unchecked((uint)Convert.ToInt32(value))); break;
            case GgufValueType.Float32: w.U32(BitConverter.SingleToUInt32Bits(Convert.ToSingle(value))); break;
            case GgufValueType.Bool: w.U8((bool)value ? (byte)1 : (byte)0); break;
            case GgufValueType.String: w.Str((string)value); break;
            case GgufValueType.UInt64: w.U64(Convert.ToUInt64(value)); break;
            case GgufValueType.Int64: w.U64(unchecked((ulong)Convert.ToInt64(value))); break;
            case GgufValueType.Float64: w.U64(BitConverter.DoubleToUInt64Bits(Convert.ToDouble(value))); break;
            case GgufValueType.Array:
                var array = (GgufArray)value;
                w.U32((uint)array.ElementType);
                w.U64((ulong)array.Items.Length);
                foreach (var item in array.Items) WriteValue(w, array.ElementType, item);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type));
        }
    }
}

/// <summary>Writes numbers in a chosen byte order.</summary>
internal sealed class BinWriter(bool bigEndian = false)
{
    private readonly MemoryStream _stream = new();

    public long Length => _stream.Length;
    public void U8(byte v) => _stream.WriteByte(v);
    public void U16(ushort v) { Span<byte> b = stackalloc byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v); _stream.Write(b); }
    public void U32(uint v) { Span<byte> b = stackalloc byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v); _stream.Write(b); }
    public void U64(ulong v) { Span<byte> b = stackalloc byte[8]; if (bigEndian) BinaryPrimitives.WriteUInt64BigEndian(b, v); else BinaryPrimitives.WriteUInt64LittleEndian(b, v); _stream.Write(b); }
    public void Bytes(byte[] bytes) => _stream.Write(bytes);
    public void Str(string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        U64((ulong)bytes.Length);
        Bytes(bytes);
    }
    public byte[] ToArray() => _stream.ToArray();
}
