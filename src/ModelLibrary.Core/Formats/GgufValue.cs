using System.Globalization;

namespace ModelLibrary.Formats;

/// <summary>The GGUF metadata value types (gguf_metadata_value_type in the spec).</summary>
public enum GgufValueType : uint
{
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
}

/// <summary>
/// One GGUF metadata value. Scalars carry their CLR value; arrays carry their element type, their full length and
/// only their first <see cref="GgufReader.ArrayPreviewLength"/> items, because arrays such as
/// <c>tokenizer.ggml.tokens</c> hold tens of thousands of entries nobody needs in memory.
/// </summary>
public sealed class GgufValue
{
    private GgufValue(GgufValueType type, object? value, GgufValueType? elementType, ulong arrayLength, IReadOnlyList<GgufValue> items)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
        ArrayLength = arrayLength;
        Items = items;
    }

    internal static GgufValue Scalar(GgufValueType type, object value) => new(type, value, null, 0, System.Array.Empty<GgufValue>());

    internal static GgufValue ArrayOf(GgufValueType elementType, ulong length, IReadOnlyList<GgufValue> items) =>
        new(GgufValueType.Array, null, elementType, length, items);

    public GgufValueType Type { get; }
    /// <summary>The scalar value (byte, sbyte, ushort, short, uint, int, float, bool, string, ulong, long or double); null for arrays.</summary>
    public object? Value { get; }
    public GgufValueType? ElementType { get; }
    /// <summary>The number of elements the file declares for an array.</summary>
    public ulong ArrayLength { get; }
    /// <summary>The first elements of an array (all of them when <see cref="IsFullyRead"/>).</summary>
    public IReadOnlyList<GgufValue> Items { get; }
    public bool IsArray => Type == GgufValueType.Array;
    public bool IsFullyRead => !IsArray || (ulong)Items.Count == ArrayLength;

    /// <summary>The value as a signed integer when it is an integer type that fits, else null.</summary>
    public long? AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        long v => v,
        ulong v when v <= long.MaxValue => (long)v,
        _ => null,
    };

    public string? AsString() => Value as string;

    public override string ToString() => IsArray
        ? $"array[{ElementType} x {ArrayLength}]"
        : Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "";
}
