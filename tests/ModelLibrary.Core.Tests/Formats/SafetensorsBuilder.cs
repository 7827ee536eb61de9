using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace ModelLibrary.Tests.Formats;

/// <summary>Writes safetensors files for tests: computed offsets, or a hand-written header for hostile cases.</summary>
internal static class SafetensorsBuilder
{
    private static readonly Dictionary<string, int> Bytes = new()
    {
        ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["U8"] = 1, ["BOOL"] = 1, ["F64"] = 8,
    };

    /// <summary>A valid file holding the tensors back to back, header padded with spaces to 8 bytes like the official writer.</summary>
    public static byte[] Build(IReadOnlyDictionary<string, string>? metadata, params (string Name, string DType, long[] Shape)[] tensors)
    {
        var header = new Dictionary<string, object>();
        if (metadata is not null) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var (name, dtype, shape) in tensors)
        {
            long size = shape.Aggregate(1L, (a, b) => a * b) * Bytes[dtype];
            header[name] = new { dtype, shape, data_offsets = new[] { offset, offset + size } };
            offset += size;
        }
        return Raw(JsonSerializer.Serialize(header), offset);
    }

    /// <summary>A file with the given header text (padded to 8 bytes) followed by <paramref name="dataLength"/> zero bytes.</summary>
    public static byte[] Raw(string headerJson, long dataLength, ulong? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        int padded = (header.Length + 7) / 8 * 8;
        var bytes = new byte[8 + padded + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        return bytes;
    }
}
