namespace ModelLibrary.Files;

/// <summary>Which volume a path is on, and how much room it has.</summary>
internal static class Volumes
{
    /// <summary>Free bytes for this user on the volume holding <paramref name="directory"/>; null if unknown.</summary>
    public static long? AvailableFreeSpace(string directory)
    {
        try
        {
            return new DriveInfo(MountPoint(directory)).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static bool Same(string a, string b) =>
        string.Equals(MountPoint(a), MountPoint(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>
    /// The mount point holding a path: its root on Windows; on Unix the longest mounted directory that contains it.
    /// </summary>
    public static string MountPoint(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows())
        {
            return Path.GetPathRoot(full) ?? full;
        }

        var best = "/";
        foreach (var drive in DriveInfo.GetDrives())
        {
            var root = drive.RootDirectory.FullName;
            if (root.Length > best.Length && (full == Path.TrimEndingDirectorySeparator(root) || PathContainment.IsInsideAsWritten(full, root)))
            {
                best = root;
            }
        }

        return best;
    }
}

/// <summary>Whether an I/O error means the volume is full.</summary>
internal static class DiskErrors
{
    /// <summary>ENOSPC on Unix; ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(IOException e) => OperatingSystem.IsWindows()
        ? (e.HResult & 0xFFFF) is 112 or 39
        : e.HResult == 28;
}
