namespace ModelLibrary.Formats;

/// <summary>
/// The scalar types behind torch's legacy type tags (<c>torch.FloatStorage</c>, <c>torch.cuda.HalfTensor</c>, ...): the
/// dtype, spelled the way safetensors spells it so that PyTorch and safetensors files report alike (and the memory
/// estimate reads both the same way), and the bytes per element, which the legacy tar format needs to step over raw
/// storage data.
/// </summary>
internal static class TorchScalarTypes
{
    // Keyed by the tag's name without its "Storage" or "Tensor" suffix; the quantized types have no safetensors name.
    private static readonly Dictionary<string, (string DType, int ElementSize)> ByPrefix = new(StringComparer.Ordinal)
    {
        ["Double"] = ("F64", 8), ["Float"] = ("F32", 4), ["Half"] = ("F16", 2), ["BFloat16"] = ("BF16", 2),
        ["Long"] = ("I64", 8), ["Int"] = ("I32", 4), ["Short"] = ("I16", 2), ["Char"] = ("I8", 1),
        ["Byte"] = ("U8", 1), ["Bool"] = ("BOOL", 1), ["ComplexFloat"] = ("C64", 8), ["ComplexDouble"] = ("C128", 16),
        ["QInt8"] = ("QINT8", 1), ["QUInt8"] = ("QUINT8", 1), ["QInt32"] = ("QINT32", 4),
        ["QUInt4x2"] = ("QUINT4X2", 1), ["QUInt2x4"] = ("QUINT2X4", 1),
    };

    /// <summary>
    /// The dtype and element size of a storage tag (<c>torch.FloatStorage</c>) or legacy tensor tag
    /// (<c>torch.FloatTensor</c>), in <c>torch</c> or <c>torch.cuda</c>; false for anything else, including
    /// <c>torch.UntypedStorage</c>, whose elements are bytes of no particular dtype.
    /// </summary>
    public static bool TryGet(string module, string name, out string dtype, out int elementSize)
    {
        dtype = "";
        elementSize = 0;
        if (module is not ("torch" or "torch.cuda")) return false;
        string prefix = name.EndsWith("Storage", StringComparison.Ordinal) ? name[..^"Storage".Length]
            : name.EndsWith("Tensor", StringComparison.Ordinal) ? name[..^"Tensor".Length]
            : "";
        if (!ByPrefix.TryGetValue(prefix, out var type)) return false;
        (dtype, elementSize) = type;
        return true;
    }
}
