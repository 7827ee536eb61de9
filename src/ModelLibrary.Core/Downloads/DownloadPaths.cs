using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ModelLibrary.Configuration;
using ModelLibrary.Validation;

namespace ModelLibrary.Downloads;

/// <summary>
/// Where one model's download lives: <c>downloads/&lt;key&gt;.partial</c>, its resume state
/// (<c>.partial.json</c>) and its cross-process lock (<c>.lock</c>), and where the file lands.
/// </summary>
public sealed partial class DownloadPaths
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
    /// (<c>../../etc/x</c>, an absolute path, a drive-relative path): <see cref="SecurityException"/> UnsafeModelContent.
    /// </summary>
    public static DownloadPaths For(LibraryConfiguration configuration, DownloadRequest request)
    {
        var providerDirectory = Path.GetFullPath(configuration.ProviderDirectory(request.Provider));
        if (string.IsNullOrWhiteSpace(request.FileName) || request.FileName.IndexOf('\0') >= 0)
        {
            throw SecurityException.PathOutsideRoot(request.FileName ?? "", providerDirectory);
        }

        var modelDirectory = Contained(providerDirectory, ModelFolder(request.ModelId), providerDirectory);
        var target = Contained(modelDirectory, request.FileName, providerDirectory);
        return new DownloadPaths(StagingFor(configuration, request.ModelId), modelDirectory, target);
    }

    /// <summary>The files in <c>downloads/</c> for a model; needs no catalog entry (for pause, cancel, wait).</summary>
    public static StagingFiles StagingFor(LibraryConfiguration configuration, string modelId)
    {
        var directory = Path.GetFullPath(configuration.DownloadsDirectory);
        var partial = Path.Combine(directory, FileKey(modelId) + ".partial");
        return new StagingFiles(directory, partial, partial + ".json", Path.Combine(directory, FileKey(modelId) + ".lock"),
            Path.Combine(directory, FileKey(modelId) + ".request"));
    }

    /// <summary>
    /// <paramref name="relative"/> under <paramref name="root"/>, which it must not leave. Compared by path
    /// segments after full resolution, so <c>/lib/llama-cpp-evil</c> is not inside <c>/lib/llama-cpp</c>.
    /// </summary>
    static string Contained(string root, string relative, string reportedRoot)
    {
        if (Path.IsPathRooted(relative) || relative.Contains(':'))
        {
            throw SecurityException.PathOutsideRoot(relative, reportedRoot);
        }

        var full = Path.GetFullPath(Path.Combine(root, relative));
        // Real containment: a link inside the provider folder that leads out of it is refused too.
        if (!PathContainment.IsInside(full, root))
        {
            throw SecurityException.PathOutsideRoot(relative, reportedRoot);
        }

        return full;
    }

    /// <summary>
    /// The folder of a model inside its provider folder: the id when it is a plain id (letters, digits, '.', '_',
    /// '-'), else <see cref="FileKey"/> of it, so a registry reference (<c>host:port/repo:tag</c>) gets one flat
    /// folder of its own rather than a path that leaves the provider folder or nests.
    /// </summary>
    public static string ModelFolder(string modelId) => Catalog.CatalogJson.IsValidId(modelId) ? modelId : FileKey(modelId);

    /// <summary>
    /// A file name for a model id: the id itself when it is plain lower-case, else a cleaned form plus a short
    /// hash, so different ids never share a file, also on case-insensitive file systems.
    /// </summary>
    public static string FileKey(string modelId)
    {
        if (PlainId().IsMatch(modelId))
        {
            return modelId;
        }

        var cleaned = UnsafeChars().Replace(modelId.ToLowerInvariant(), "_");
        if (cleaned.Length > 80)
        {
            cleaned = cleaned[..80];
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(modelId)))[..10].ToLowerInvariant();
        return $"{cleaned}-{hash}";
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex PlainId();

    [GeneratedRegex("[^a-z0-9._-]")]
    private static partial Regex UnsafeChars();
}

/// <summary>A model's files in <c>downloads/</c>: the partial file, its resume state, its lock, a stop request from another process.</summary>
public sealed record StagingFiles(string Directory, string Partial, string State, string Lock, string Request)
{
    /// <summary>Deletes the partial file and its state (not the lock, which may be held).</summary>
    public void DeletePartial()
    {
        File.Delete(Partial);
        File.Delete(State);
        File.Delete(State + ".tmp");
    }
}
