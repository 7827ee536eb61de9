using ModelLibrary.Formats;

namespace ModelLibrary.Files;

/// <summary>Which files make up a model on disk, given its file or its folder.</summary>
public static class ModelFiles
{
    /// <summary>
    /// The file that stands for the model: the path itself for a file; for a folder, its shard index, or else its one
    /// model file (a GGUF split set counts as one, named by its first part).
    /// </summary>
    /// <exception cref="ValidationException">InvalidModelFile: the folder holds no model file, or several models.</exception>
    public static string EntryFile(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            // Any part stands for the whole model; the model is named by its first part, or its shard index.
            if (GgufSplitSet.TryParseName(full, out var prefix, out var number, out var count) && number != 1
                && GgufSplitSet.PartPath(prefix, 1, count) is var first && File.Exists(first))
            {
                return first;
            }

            if (ModelFileNames.FormatOf(full) == ModelFileNames.Safetensors && SafetensorsReader.FindIndexFor(full) is { } index)
            {
                return Path.GetFullPath(index);
            }

            return full;
        }

        if (!Directory.Exists(full))
        {
            return full;
        }

        var indexes = Directory.GetFiles(full, "*" + ModelFileNames.ShardIndexSuffix).Order(StringComparer.Ordinal).ToArray();
        if (indexes.Length == 1)
        {
            return indexes[0];
        }

        var weights = Directory.GetFiles(full).Where(ModelFileNames.IsWeightFile).Order(StringComparer.Ordinal).ToArray();
        var models = weights.GroupBy(f => GgufSplitSet.TryParseName(f, out var prefix, out _, out _) ? prefix : f, StringComparer.Ordinal)
            .Select(g => g.First()).ToArray();
        return models.Length switch
        {
            1 => models[0],
            0 => throw Errors.InvalidModelFile(full, $"the folder holds no model file ({string.Join(", ", ModelFileNames.WeightExtensions)})"),
            _ => throw Errors.InvalidModelFile(full,
                $"the folder holds several models ({string.Join(", ", models.Select(Path.GetFileName))}); name one file"),
        };
    }

    /// <summary>
    /// <see cref="EntryFile"/>, or null for a folder whose model cannot be told (none, or several): for clean-up that
    /// must not guess which files were the model's.
    /// </summary>
    public static string? TryEntryFile(string path)
    {
        try
        {
            return EntryFile(path);
        }
        catch (ValidationException)
        {
            return null;
        }
    }

    /// <summary>
    /// Every file of the model whose entry file is <paramref name="entry"/>: the split parts or shards the header
    /// names, plus the shard index; without a readable header, the split parts found by name, else the file alone.
    /// </summary>
    public static IReadOnlyList<string> Parts(string entry, ModelFileInfo? header)
    {
        var full = Path.GetFullPath(entry);
        var parts = new List<string>();
        if (header is not null)
        {
            parts.AddRange(header.Parts.Select(Path.GetFullPath));
            if (header.Safetensors?.IndexPath is { } index)
            {
                parts.Insert(0, Path.GetFullPath(index));
            }
        }
        else if (GgufSplitSet.Find(full) is { } split)
        {
            parts.AddRange(split.Parts);
        }

        if (!parts.Contains(full, StringComparer.Ordinal))
        {
            parts.Insert(0, full);
        }

        return parts.Distinct(StringComparer.Ordinal).ToList();
    }
}
