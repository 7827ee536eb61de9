namespace ModelLibrary.Downloads;

/// <summary>Checks made before the first byte is requested.</summary>
internal static class Preflight
{
    /// <summary>The plain-http rule (<see cref="Net.PlainHttpRule"/>) for the first URL, before any task exists.</summary>
    public static void CheckSource(Uri url, bool allowInsecureHttp, string modelId) =>
        Net.HttpPolicy.ForDownload(modelId, allowInsecureHttp).Ensure(url);

    /// <summary>
    /// Free space for what is still to come, plus a margin (<see cref="DownloadOptions.FreeSpaceMargin"/> + a
    /// fraction of the size) so a download never fills the volume to the last byte. When the provider folder is
    /// on another volume the file is copied there, so that volume needs the whole size too.
    /// </summary>
    public static void CheckDiskSpace(string modelId, DownloadPaths paths, long totalSize, long alreadyOnDisk, DownloadOptions options)
    {
        var margin = options.FreeSpaceMargin + (long)(totalSize * options.FreeSpaceMarginFraction);
        Require(paths.DownloadsDirectory, Math.Max(0, totalSize - alreadyOnDisk) + margin);
        if (!Volumes.Same(paths.DownloadsDirectory, ExistingAncestor(paths.ModelDirectory)))
        {
            Require(ExistingAncestor(paths.ModelDirectory), totalSize + margin);
        }

        void Require(string directory, long required)
        {
            var available = Volumes.AvailableFreeSpace(directory);
            if (available is { } free && free < required)
            {
                throw Errors.InsufficientDiskSpace(modelId, required, free, directory);
            }
        }
    }

    static string ExistingAncestor(string path)
    {
        var current = path;
        while (!Directory.Exists(current) && Path.GetDirectoryName(current) is { } parent)
        {
            current = parent;
        }

        return current;
    }
}

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
            if (root.Length > best.Length && (full == Path.TrimEndingDirectorySeparator(root) || Files.PathContainment.IsInsideAsWritten(full, root)))
            {
                best = root;
            }
        }

        return best;
    }
}
