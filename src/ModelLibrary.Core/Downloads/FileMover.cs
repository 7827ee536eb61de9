using ModelLibrary.Files;

namespace ModelLibrary.Downloads;

/// <summary>Puts a verified file at its final path so that the path holds either nothing or the whole file.</summary>
internal static class FileMover
{
    /// <summary>
    /// A rename on the same volume. Across volumes (where File.Move would copy straight into the target and a
    /// crash could leave half a file under the final name) it copies to a temporary name in the target folder
    /// first and renames that.
    /// </summary>
    public static async Task MoveIntoPlaceAsync(string source, string target, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(target)!;
        Configuration.PrivateFiles.CreateDirectory(directory);
        if (Volumes.Same(source, directory))
        {
            try
            {
                File.Move(source, target, overwrite: true);
                return;
            }
            catch (IOException) when (File.Exists(source))
            {
                // A bind mount or similar the volume check did not see: fall back to copying.
            }
        }

        var temp = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous))
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                await input.CopyToAsync(output, 1 << 20, cancellationToken);
                output.Flush(flushToDisk: true);
            }

            File.Move(temp, target, overwrite: true);
            File.Delete(source);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>
    /// Puts a staged folder at <paramref name="target"/> so that the path holds the old folder or the whole new one:
    /// a rename on the same volume (an old folder, a -Force re-download, is renamed aside first and deleted after);
    /// across volumes a copy to a hidden sibling, renamed at the end.
    /// </summary>
    public static async Task MoveFolderIntoPlaceAsync(string source, string target, CancellationToken cancellationToken)
    {
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var name = Path.GetFileName(target);
        var staged = source;
        if (!Volumes.Same(source, parent))
        {
            staged = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.tmp");
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var to = Path.Combine(staged, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                await MoveIntoPlaceAsync(file, to, cancellationToken);
            }
        }

        string? aside = null;
        if (Directory.Exists(target) || File.Exists(target))
        {
            aside = Path.Combine(parent, $".{name}.{Guid.NewGuid():N}.old");
            Directory.Move(target, aside);
        }

        Directory.Move(staged, target);
        if (aside is not null)
        {
            Directory.Delete(aside, recursive: true);
        }

        if (staged != source && Directory.Exists(source))
        {
            Directory.Delete(source, recursive: true);
        }
    }
}
