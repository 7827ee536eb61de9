namespace ModelLibrary.Library;

/// <summary>
/// Finds model files in the provider folders: each model file directly in a provider folder, and each sub-folder
/// holding model files (a downloaded model's folder, a sharded model), is one model.
/// </summary>
public static class LocalModelScanner
{
    public sealed record Found(string Path, string SuggestedId, string Provider, string? Format, long Bytes, DateTimeOffset Modified);

    public static IEnumerable<Found> Scan(string directory, string provider)
    {
        if (!Directory.Exists(directory))
        {
            yield break;
        }

        var loose = new DirectoryInfo(directory).EnumerateFiles().Where(IsModelFile).ToList();
        // Split GGUF parts (x-00001-of-00003.gguf) in one folder are one model.
        foreach (var group in loose.GroupBy(f => ModelFileNames.Stem(f.Name), StringComparer.OrdinalIgnoreCase))
        {
            var first = group.OrderBy(f => f.Name, StringComparer.Ordinal).First();
            yield return new Found(first.FullName, IdFromName(group.Key), provider, ModelFileNames.FormatOf(first.Name),
                group.Sum(f => f.Length), group.Max(f => f.LastWriteTimeUtc));
        }

        foreach (var folder in new DirectoryInfo(directory).EnumerateDirectories())
        {
            var files = folder.EnumerateFiles("*", SearchOption.AllDirectories).Where(IsModelFile).ToList();
            if (files.Count == 0)
            {
                continue;
            }

            var path = files.Count == 1 ? files[0].FullName : folder.FullName;
            yield return new Found(path, IdFromName(folder.Name), provider, ModelFileNames.FormatOf(files[0].Name),
                files.Sum(f => f.Length), files.Max(f => f.LastWriteTimeUtc));
        }
    }

    static bool IsModelFile(FileInfo file) => ModelFileNames.HasWeightExtension(file.Name);

    static string IdFromName(string name) => ModelFileNames.IdFromName(name, "local-model");
}
