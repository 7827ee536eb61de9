using ModelLibrary.Formats;

namespace ModelLibrary.Library;

/// <summary>
/// Finds model files in the provider folders: each model file directly in a provider folder, and each sub-folder
/// holding model files (a downloaded model's folder, a sharded model), is one model. Sizes follow symbolic links
/// (<see cref="FileKinds"/>). A file named as a GGUF or safetensors file whose first bytes are not that format, or
/// that is no regular file at all, is found with its <see cref="Found.Problem"/>, so it is listed as Error, not Local.
/// </summary>
public static class LocalModelScanner
{
    /// <param name="Problem">Why the files cannot be the model they are named as (header check), or null.</param>
    public sealed record Found(string Path, string SuggestedId, string Provider, string? Format, long Bytes, DateTimeOffset Modified, string? Problem = null);

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
                group.Sum(FileKinds.Length), group.Max(f => f.LastWriteTimeUtc), group.Select(f => HeaderProblem(f.FullName)).FirstOrDefault(p => p is not null));
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
        return new Found(path, IdFromName(folder.Name), provider, ModelFileNames.FormatOf(files[0].Name),
            files.Sum(FileKinds.Length), files.Max(f => f.LastWriteTimeUtc), files.Select(f => HeaderProblem(f.FullName)).FirstOrDefault(p => p is not null));
    }

    /// <summary>
    /// Why a file named as a GGUF or safetensors file is not one (its first bytes say otherwise, it is empty, it is
    /// no regular file); null when it is, or for other extensions (those are judged when they are read). Reads a
    /// few bytes only: this runs for every unregistered file at every listing.
    /// </summary>
    public static string? HeaderProblem(string path)
    {
        if (FileKinds.SpecialKind(path) is { } kind)
        {
            return $"'{path}' is {kind}, not a model file.";
        }

        var extension = Path.GetExtension(path);
        var expected = extension.Equals(".gguf", StringComparison.OrdinalIgnoreCase) ? ModelFileFormat.Gguf
            : extension.Equals(".safetensors", StringComparison.OrdinalIgnoreCase) ? ModelFileFormat.Safetensors
            : ModelFileFormat.Unknown;
        if (expected == ModelFileFormat.Unknown)
        {
            return null;
        }

        try
        {
            return ModelFileInspector.DetectFormat(path) == expected
                ? null
                : $"'{path}' is named {extension} but does not start with a {expected.ToString().ToUpperInvariant()} header; it is damaged or not a model file. Delete it, or replace it with the real file.";
        }
        catch (Exception e) when (e is ValidationException or IOException or UnauthorizedAccessException)
        {
            return $"'{path}' cannot be read as a model file: {e.Message}";
        }
    }

    static bool IsModelFile(FileInfo file) => ModelFileNames.HasWeightExtension(file.Name);

    static string IdFromName(string name) => ModelFileNames.IdFromName(name, "local-model");
}
