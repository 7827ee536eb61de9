using System.Text.RegularExpressions;
using ModelLibrary.Catalog;

namespace ModelLibrary.Library;

/// <summary>
/// Finds model files in the provider folders: each model file directly in a provider folder, and each sub-folder
/// holding model files (a downloaded model's folder, a sharded model), is one model.
/// </summary>
public static partial class LocalModelScanner
{
    static readonly string[] ModelExtensions = { ".gguf", ".safetensors", ".bin", ".pt", ".pth", ".ckpt" };

    public sealed record Found(string Path, string SuggestedId, string Provider, string? Format, long Bytes, DateTimeOffset Modified);

    public static IEnumerable<Found> Scan(string directory, string provider)
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        var loose = new DirectoryInfo(directory).EnumerateFiles().Where(IsModelFile).ToList();
        // Split GGUF parts (x-00001-of-00003.gguf) in one folder are one model.
        foreach (var group in loose.GroupBy(f => SplitPart().Replace(Path.GetFileNameWithoutExtension(f.Name), ""), StringComparer.OrdinalIgnoreCase))
        {
            var first = group.OrderBy(f => f.Name, StringComparer.Ordinal).First();
            yield return new Found(first.FullName, IdFromName(group.Key), provider, CatalogJson.FormatFromFileName(first.Name),
                group.Sum(f => f.Length), group.Max(f => f.LastWriteTimeUtc));
        }

        foreach (var folder in new DirectoryInfo(directory).EnumerateDirectories())
        {
            if (ScanFolder(folder, provider) is { } found)
            {
                yield return found;
            }
        }
    }

    /// <summary>The model in one model folder (its one file, or the folder when it holds several); null when it holds none.</summary>
    public static Found? ScanFolder(string folder, string provider) =>
        Directory.Exists(folder) ? ScanFolder(new DirectoryInfo(folder), provider) : null;

    static Found? ScanFolder(DirectoryInfo folder, string provider)
    {
        var files = folder.EnumerateFiles("*", SearchOption.AllDirectories).Where(IsModelFile).ToList();
        if (files.Count == 0)
        {
            return null;
        }

        var path = files.Count == 1 ? files[0].FullName : folder.FullName;
        return new Found(path, IdFromName(folder.Name), provider, CatalogJson.FormatFromFileName(files[0].Name),
            files.Sum(f => f.Length), files.Max(f => f.LastWriteTimeUtc));
    }

    /// <summary>Bytes a file or folder takes.</summary>
    public static long DiskUsage(string path) =>
        File.Exists(path) ? new FileInfo(path).Length
        : Directory.Exists(path) ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
        : 0;

    static bool IsModelFile(FileInfo file) => ModelExtensions.Contains(file.Extension, StringComparer.OrdinalIgnoreCase);

    static string IdFromName(string name)
    {
        var id = InvalidIdChars().Replace(name.ToLowerInvariant(), "-").Trim('-', '.', '_');
        return string.IsNullOrEmpty(id) ? "local-model" : id;
    }

    [GeneratedRegex("-\\d{5}-of-\\d{5}$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitPart();

    [GeneratedRegex("[^a-z0-9._-]+")]
    private static partial Regex InvalidIdChars();
}
