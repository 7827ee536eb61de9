namespace ModelLibrary.Formats;

/// <summary>
/// ggml tensor types (enum ggml_type) with their block geometry, as listed in gguf-py's GGML_QUANT_SIZES. Gaps are
/// types llama.cpp removed. A tensor of ne0 elements per row takes ne0 / BlockSize * TypeSize bytes per row.
/// </summary>
public static class GgmlType
{
    private static readonly Dictionary<uint, (string Name, int BlockSize, int TypeSize)> Types = new()
    {
        [0] = ("F32", 1, 4),
        [1] = ("F16", 1, 2),
        [2] = ("Q4_0", 32, 18),
        [3] = ("Q4_1", 32, 20),
        [6] = ("Q5_0", 32, 22),
        [7] = ("Q5_1", 32, 24),
        [8] = ("Q8_0", 32, 34),
        [9] = ("Q8_1", 32, 36),
        [10] = ("Q2_K", 256, 84),
        [11] = ("Q3_K", 256, 110),
        [12] = ("Q4_K", 256, 144),
        [13] = ("Q5_K", 256, 176),
        [14] = ("Q6_K", 256, 210),
        [15] = ("Q8_K", 256, 292),
        [16] = ("IQ2_XXS", 256, 66),
        [17] = ("IQ2_XS", 256, 74),
        [18] = ("IQ3_XXS", 256, 98),
        [19] = ("IQ1_S", 256, 50),
        [20] = ("IQ4_NL", 32, 18),
        [21] = ("IQ3_S", 256, 110),
        [22] = ("IQ2_S", 256, 82),
        [23] = ("IQ4_XS", 256, 136),
        [24] = ("I8", 1, 1),
        [25] = ("I16", 1, 2),
        [26] = ("I32", 1, 4),
        [27] = ("I64", 1, 8),
        [28] = ("F64", 1, 8),
        [29] = ("IQ1_M", 256, 56),
        [30] = ("BF16", 1, 2),
        [34] = ("TQ1_0", 256, 54),
        [35] = ("TQ2_0", 256, 66),
        [39] = ("MXFP4", 32, 17),
        [40] = ("NVFP4", 64, 36),  // ggml.h GGML_TYPE_NVFP4: QK_NVFP4 = 64, sizeof(block_nvfp4) = 36
        [41] = ("Q1_0", 128, 18),  // ggml.h GGML_TYPE_Q1_0
    };

    /// <summary>The type's name, or <c>type_N</c> for a type this library does not know.</summary>
    public static string GetName(uint type) => Types.TryGetValue(type, out var t) ? t.Name : $"type_{type}";

    public static bool TryGetBlockGeometry(uint type, out int blockSize, out int typeSize)
    {
        if (Types.TryGetValue(type, out var t))
        {
            (blockSize, typeSize) = (t.BlockSize, t.TypeSize);
            return true;
        }
        (blockSize, typeSize) = (0, 0);
        return false;
    }
}

/// <summary>
/// <c>general.file_type</c> values (llama.cpp's LLAMA_FTYPE enum in llama.h, mirrored by gguf-py's LlamaFileType)
/// mapped to the quantization names catalogs use.
/// </summary>
public static class GgufFileType
{
    private static readonly Dictionary<uint, string> Names = new()
    {
        [0] = "F32",
        [1] = "F16",
        [2] = "Q4_0",
        [3] = "Q4_1",
        [4] = "Q4_1_SOME_F16", // removed from llama.cpp; old files may still say it
        [7] = "Q8_0",
        [8] = "Q5_0",
        [9] = "Q5_1",
        [10] = "Q2_K",
        [11] = "Q3_K_S",
        [12] = "Q3_K_M",
        [13] = "Q3_K_L",
        [14] = "Q4_K_S",
        [15] = "Q4_K_M",
        [16] = "Q5_K_S",
        [17] = "Q5_K_M",
        [18] = "Q6_K",
        [19] = "IQ2_XXS",
        [20] = "IQ2_XS",
        [21] = "Q2_K_S",
        [22] = "IQ3_XS",
        [23] = "IQ3_XXS",
        [24] = "IQ1_S",
        [25] = "IQ4_NL",
        [26] = "IQ3_S",
        [27] = "IQ3_M",
        [28] = "IQ2_S",
        [29] = "IQ2_M",
        [30] = "IQ4_XS",
        [31] = "IQ1_M",
        [32] = "BF16",
        [36] = "TQ1_0",
        [37] = "TQ2_0",
        [38] = "MXFP4_MOE",
        [39] = "NVFP4",
        [40] = "Q1_0",
    };

    // llama.cpp sets this bit when it guessed the file type from the tensors instead of reading it.
    private const uint Guessed = 1024;

    /// <summary>
    /// The file type llama.cpp's model loader guesses for a file without <c>general.file_type</c> from the ggml type
    /// most tensors have (llama_model_loader: the first type, in tensor-name order, to reach the highest count).
    /// </summary>
    public static string GuessFromTensorType(uint ggmlType) => ggmlType switch
    {
        0 => "F32",
        1 => "F16",
        30 => "BF16",
        2 => "Q4_0",
        3 => "Q4_1",
        6 => "Q5_0",
        7 => "Q5_1",
        8 => "Q8_0",
        10 => "Q2_K",
        11 => "Q3_K_M",
        12 => "Q4_K_M",
        13 => "Q5_K_M",
        14 => "Q6_K",
        34 => "TQ1_0",
        35 => "TQ2_0",
        16 => "IQ2_XXS",
        17 => "IQ2_XS",
        22 => "IQ2_S",
        18 => "IQ3_XXS",
        19 => "IQ1_S",
        29 => "IQ1_M",
        20 => "IQ4_NL",
        23 => "IQ4_XS",
        21 => "IQ3_S",
        40 => "NVFP4",
        41 => "Q1_0",
        // llama.cpp falls back to "all F32" for any other type (MXFP4 included).
        _ => "F32",
    };

    /// <summary>The quantization name for a <c>general.file_type</c> value, or null when it is not a known value.</summary>
    public static string? GetName(uint fileType) =>
        Names.TryGetValue(fileType & ~Guessed, out var name) ? name : null;
}
