using ModelLibrary.Configuration;
using ModelLibrary.Files;

namespace ModelLibrary.Downloads;

/// <summary>
/// Where one model's download lives: <c>downloads/&lt;key&gt;.partial</c>, its resume state
/// (<c>.partial.json</c>) and its cross-process lock (<c>.lock</c>), and where the file lands.
/// </summary>
public sealed class DownloadPaths
{
    DownloadPaths(StagingFiles staging, string modelDirectory, string target)
    {
        Staging = staging;
        ModelDirectory = modelDirectory;
        Target = target;
    }

    public StagingFiles Staging { get; }
    public string DownloadsDirectory => Staging.Directory;
    public string Partial => Staging.Partial;
    public string State => Staging.State;
    public string Lock => Staging.Lock;
    /// <summary><c>&lt;provider folder&gt;/&lt;model id&gt;</c>.</summary>
    public string ModelDirectory { get; }
    /// <summary>Full path of the finished file.</summary>
    public string Target { get; }

    /// <summary>
    /// Resolves the paths, refusing a model id or file name that would leave the provider folder
    /// (<c>../../etc/x</c>, an absolute path, a drive-relative path): <see cref="ModelSecurityException"/> UnsafeModelContent.
    /// </summary>
    public static DownloadPaths For(LibraryConfiguration configuration, DownloadRequest request)
    {
        var providerDirectory = Path.GetFullPath(configuration.ProviderDirectory(request.Provider));
        if ((string.IsNullOrWhiteSpace(request.FileName) && !request.IsFolder) || request.FileName.IndexOf('\0') >= 0)
        {
            throw Errors.PathOutsideRoot(request.FileName ?? "", providerDirectory);
        }

        var modelDirectory = Contained(providerDirectory, ModelNames.FolderName(request.ModelId), providerDirectory);
        // A folder model without an entry file lands as the folder itself.
        var target = request.IsFolder && request.FileName.Length == 0 ? modelDirectory : Contained(modelDirectory, request.FileName, providerDirectory);
        return new DownloadPaths(StagingFor(configuration, request.ModelId), modelDirectory, target);
    }

    /// <summary>The files in <c>downloads/</c> for a model; needs no catalog entry (for pause, cancel, wait).</summary>
    public static StagingFiles StagingFor(LibraryConfiguration configuration, string modelId)
    {
        var directory = Path.GetFullPath(configuration.DownloadsDirectory);
        var partial = Path.Combine(directory, ModelNames.FileKey(modelId) + ".partial");
        return new StagingFiles(directory, partial, partial + ".json", Path.Combine(directory, ModelNames.FileKey(modelId) + ".lock"),
            Path.Combine(directory, ModelNames.FileKey(modelId) + ".request"));
    }

    /// <summary>
    /// <paramref name="relative"/> under <paramref name="root"/>, which it must not leave. Compared by path
    /// segments after full resolution, so <c>/lib/llama-cpp-evil</c> is not inside <c>/lib/llama-cpp</c>.
    /// </summary>
    static string Contained(string root, string relative, string reportedRoot)
    {
        if (Path.IsPathRooted(relative) || relative.Contains(':'))
        {
            throw Errors.PathOutsideRoot(relative, reportedRoot);
        }

        var full = Path.GetFullPath(Path.Combine(root, relative));
        // Real containment: a link inside the provider folder that leads out of it is refused too.
        if (!PathContainment.IsInside(full, root))
        {
            throw Errors.PathOutsideRoot(relative, reportedRoot);
        }

        return full;
    }

    /// <summary>Where a folder model's files gather until all are verified: <c>downloads/&lt;key&gt;.partial.d/</c>.</summary>
    public string FolderStaging => Staging.Folder;

}

/// <summary>A model's files in <c>downloads/</c>: the partial file, its resume state, its lock, a stop request from another process.</summary>
public sealed record StagingFiles(string Directory, string Partial, string State, string Lock, string Request)
{
    /// <summary>A folder model's staging folder: its finished files and each file's partial and state.</summary>
    public string Folder => Partial + ".d";

    /// <summary>Deletes the partial file, its state and a folder model's staging folder (not the lock, which may be held).</summary>
    public void DeletePartial()
    {
        File.Delete(Partial);
        File.Delete(State);
        File.Delete(State + ".tmp");
        if (System.IO.Directory.Exists(Folder))
        {
            System.IO.Directory.Delete(Folder, recursive: true);
        }
    }
}
