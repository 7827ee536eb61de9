namespace ModelLibrary.Formats;

/// <summary>
/// The parts of a GGUF model split by llama.cpp's gguf-split, named <c>{prefix}-00001-of-0000N.gguf</c>
/// (llama_split_path's "%s-%05d-of-%05d.gguf"). Together the parts are one model.
/// </summary>
public sealed class GgufSplitSet
{
    // gguf-split numbers parts with exactly five digits.
    internal const int MaxParts = 99999;

    private GgufSplitSet(string prefix, int partCount, IReadOnlyList<string> parts, IReadOnlyList<int> missing, long totalSize)
    {
        Prefix = prefix;
        PartCount = partCount;
        Parts = parts;
        MissingPartNumbers = missing;
        TotalSize = totalSize;
    }

    /// <summary>The path without the <c>-0000i-of-0000N.gguf</c> suffix.</summary>
    public string Prefix { get; }
    /// <summary>N, the number of parts the names declare.</summary>
    public int PartCount { get; }
    /// <summary>Full paths of the parts that exist, in part order.</summary>
    public IReadOnlyList<string> Parts { get; }
    /// <summary>1-based numbers of the parts that do not exist.</summary>
    public IReadOnlyList<int> MissingPartNumbers { get; }
    public bool IsComplete => MissingPartNumbers.Count == 0;
    /// <summary>Sum of the sizes of the parts that exist.</summary>
    public long TotalSize { get; }

    /// <summary>Parses a split part's file name into its prefix (with directory), 1-based part number and part count.</summary>
    public static bool TryParseName(string path, out string prefix, out int partNumber, out int partCount)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!string.Equals(Path.GetExtension(path), ".gguf", StringComparison.OrdinalIgnoreCase)
            || !ModelFileNames.TryParsePart(path, out prefix, out partNumber, out partCount) || partCount > MaxParts)
        {
            (prefix, partNumber, partCount) = ("", 0, 0);
            return false;
        }

        return true;
    }

    /// <summary>The path of part <paramref name="partNumber"/> (1-based) of <paramref name="partCount"/>.</summary>
    public static string PartPath(string prefix, int partNumber, int partCount) => ModelFileNames.PartName(prefix, partNumber, partCount, ".gguf");

    /// <summary>
    /// Given any one part, finds every part of the set; null when the name is not a split part's name.
    /// Missing parts are reported in <see cref="MissingPartNumbers"/>, not thrown.
    /// </summary>
    public static GgufSplitSet? Find(string anyPartPath)
    {
        if (!TryParseName(anyPartPath, out var prefix, out _, out int count)) return null;
        var parts = new List<string>(count);
        var missing = new List<int>();
        long total = 0;
        for (int i = 1; i <= count; i++)
        {
            var part = new FileInfo(PartPath(prefix, i, count));
            if (part.Exists)
            {
                parts.Add(part.FullName);
                total += FileKinds.Length(part);
            }
            else
            {
                missing.Add(i);
            }
        }
        return new GgufSplitSet(prefix, count, parts, missing, total);
    }
}
