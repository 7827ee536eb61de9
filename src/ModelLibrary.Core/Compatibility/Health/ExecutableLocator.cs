namespace ModelLibrary.Compatibility;

/// <summary>Finds programs on a PATH the way shells do: executable bit on Unix, PATHEXT extensions on Windows.</summary>
public static class ExecutableLocator
{
    /// <summary>The full path of the first <paramref name="name"/> on <paramref name="path"/>, or null.</summary>
    public static string? Find(string name, string? path, string? pathExt = null)
    {
        if (string.IsNullOrWhiteSpace(name) || string.IsNullOrEmpty(path))
        {
            return null;
        }

        var candidates = CandidateNames(name, pathExt);
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            foreach (var candidate in candidates)
            {
                string full;
                try
                {
                    full = Path.Combine(directory.Trim('"'), candidate);
                }
                catch (ArgumentException)
                {
                    continue;
                }

                if (IsExecutable(full))
                {
                    return full;
                }
            }
        }

        return null;
    }

    static IReadOnlyList<string> CandidateNames(string name, string? pathExt)
    {
        if (!OperatingSystem.IsWindows() || Path.HasExtension(name))
        {
            return new[] { name };
        }

        var extensions = (string.IsNullOrEmpty(pathExt) ? ".COM;.EXE;.BAT;.CMD" : pathExt)
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return extensions.Select(e => name + e.ToLowerInvariant()).ToArray();
    }

    static bool IsExecutable(string file)
    {
        if (!File.Exists(file))
        {
            return false;
        }

        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        const UnixFileMode anyExecute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
        try
        {
            return (File.GetUnixFileMode(file) & anyExecute) != 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
