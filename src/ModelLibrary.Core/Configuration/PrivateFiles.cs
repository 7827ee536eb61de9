namespace ModelLibrary.Configuration;

/// <summary>
/// The library's folders and <c>registry.db</c> are created for this user only (0700 and 0600 on Unix), as ssh
/// and huggingface_hub's token file are: download URLs, task history and model files are nobody else's business.
/// Folders and files that already exist keep the mode they have. On Windows the user's profile ACLs apply.
/// </summary>
public static class PrivateFiles
{
    const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the directory and any missing parent, each user-only where the platform allows.</summary>
    public static DirectoryInfo CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows() || Directory.Exists(path))
        {
            return Directory.CreateDirectory(path);
        }

        // .NET gives the mode to the last folder only; the missing parents (llama-cpp/ above <id>/) are made here.
        var missing = new Stack<string>();
        for (var current = Path.GetFullPath(path); !Directory.Exists(current); current = Path.GetDirectoryName(current)!)
        {
            missing.Push(current);
            if (Path.GetDirectoryName(current) is null)
            {
                break;
            }
        }

        DirectoryInfo created = null!;
        while (missing.TryPop(out var folder))
        {
            created = Directory.CreateDirectory(folder, DirectoryMode);
        }

        return created;
    }

    /// <summary>Creates an empty file user-only unless it exists; true when it was created.</summary>
    public static bool CreateFile(string path)
    {
        if (File.Exists(path))
        {
            // Also in a folder this user cannot write (a read-only library is still read).
            return false;
        }

        try
        {
            var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode;
            }

            using var _ = new FileStream(path, options);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }
}
