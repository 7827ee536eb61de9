using ModelLibrary.Files;

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
