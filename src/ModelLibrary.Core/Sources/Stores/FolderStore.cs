using System.Text.RegularExpressions;

namespace ModelLibrary.Sources.Stores;

/// <summary>
/// A store that is a plain tree of model files (LM Studio, any folder): each GGUF is a model (split parts
/// <c>-0000k-of-0000N</c> are one, <c>mmproj</c> projectors go with the model beside them), and each folder holding
/// safetensors is one transformers model. Files are read in place; links leading out of the folder are skipped.
/// </summary>
public abstract partial class FolderStore : ExternalStoreSource
{
    protected FolderStore(string name, string root) : base(name, root) { }

    /// <summary>The id of the model at this path (forward slashes, relative to the root); null to leave it out.</summary>
    protected abstract string? IdFor(string relativePath);

    protected override IEnumerable<ModelInfo> Scan(List<string> warnings, CancellationToken cancellationToken)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = FileAttributes.Hidden };
        var files = new List<(string Relative, string Path, long Size)>();
        foreach (var path in Directory.EnumerateFiles(Root, "*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var relative = Path.GetRelativePath(Root, path).Replace(Path.DirectorySeparatorChar, '/');
            var extension = Path.GetExtension(path).ToLowerInvariant();
            if (extension is not (".gguf" or ".safetensors"))
            {
                continue;
            }

            if (Resolve(path, Root, out var why) is not { } real)
            {
                warnings.Add(Skip($"'{relative}'", why!));
                continue;
            }

            files.Add((relative, path, new FileInfo(real).Length));
        }

        foreach (var gguf in files.Where(f => f.Relative.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) && !f.Relative.Contains("mmproj", StringComparison.OrdinalIgnoreCase))
                     .GroupBy(f => SplitSuffix().Replace(f.Relative, ".gguf"), StringComparer.OrdinalIgnoreCase))
        {
            var first = gguf.OrderBy(f => f.Relative, StringComparer.Ordinal).First();
            if (IdFor(first.Relative) is not { } id)
            {
                continue;
            }

            var folder = Path.GetDirectoryName(first.Path)!;
            var projector = files.FirstOrDefault(f => f.Relative.Contains("mmproj", StringComparison.OrdinalIgnoreCase) && string.Equals(Path.GetDirectoryName(f.Path), folder, StringComparison.Ordinal));
            var fileName = Path.GetFileName(first.Path);
            var model = new ModelInfo
            {
                Id = id,
                Name = Path.GetFileNameWithoutExtension(fileName),
                Provider = "llama-cpp",
                Format = "gguf",
                Size = gguf.Sum(f => f.Size),
                DiskUsage = gguf.Sum(f => f.Size),
                LocalPath = first.Path,
                FileName = fileName,
                DownloadDate = File.GetLastWriteTimeUtc(first.Path),
                Description = $"In {Tool}.",
                Metadata = new ModelMetadata { Quantization = Hub.HubFileSelection.QuantizationOf(Path.GetFileNameWithoutExtension(SplitSuffix().Replace(fileName, ".gguf"))) },
            };
            if (projector.Path is not null)
            {
                model.AdditionalProperties["mmproj"] = Path.GetFileName(projector.Path);
            }

            yield return model;
        }

        foreach (var folder in files.Where(f => f.Relative.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                     .GroupBy(f => Path.GetDirectoryName(f.Path)!, StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(Root, folder.Key).Replace(Path.DirectorySeparatorChar, '/');
            if (relative == "." || IdFor(relative) is not { } id)
            {
                continue;
            }

            var size = folder.Sum(f => f.Size);
            yield return new ModelInfo
            {
                Id = id,
                Name = Path.GetFileName(folder.Key),
                Provider = "transformers",
                Format = "safetensors",
                Size = size,
                DiskUsage = size,
                LocalPath = folder.Key,
                DownloadDate = folder.Max(f => File.GetLastWriteTimeUtc(f.Path)),
                Description = $"In {Tool}; {folder.Count()} safetensors file(s).",
            };
        }
    }

    [GeneratedRegex("-\\d{5}-of-\\d{5}\\.gguf$", RegexOptions.IgnoreCase)]
    private static partial Regex SplitSuffix();
}
