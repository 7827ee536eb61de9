using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ModelLibrary.Configuration;
using ModelLibrary.Files;

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
    /// (<c>../../etc/x</c>, an absolute path, a drive-relative path): <see cref="ModelSecurityException"/> UnsafeModelContent.
    /// </summary>
    public static DownloadPaths For(LibraryConfiguration configuration, DownloadRequest request)
    {
        var providerDirectory = Path.GetFullPath(configuration.ProviderDirectory(request.Provider));
        if ((string.IsNullOrWhiteSpace(request.FileName) && !request.IsFolder) || request.FileName.IndexOf('\0') >= 0)
        {
            throw Errors.PathOutsideRoot(request.FileName ?? "", providerDirectory);
        }

        var modelDirectory = Contained(providerDirectory, FolderName(request.ModelId), providerDirectory);
        // A folder model without an entry file lands as the folder itself.
        var target = request.IsFolder && request.FileName.Length == 0 ? modelDirectory : Contained(modelDirectory, request.FileName, providerDirectory);
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

    /// <summary>
    /// The folder a model's files live in, inside its provider folder: the id itself for a catalog id; a reference
    /// (<c>hf.co/Qwen/Repo:Q4_K_M</c>, <c>registry:5000/ns/repo:tag</c>) with each <c>/</c>, <c>:</c> and <c>@</c> written
    /// <c>--</c> (as the Hub's own cache writes <c>models--owner--repo</c>; Hub names never contain <c>--</c>), so one
    /// model is one folder directly under the provider folder. Anything still unsafe gets <see cref="FileKey"/>.
    /// </summary>
    public static string FolderName(string modelId)
    {
        // An id that is a path out of the folder stays as written, for the containment check to refuse (never renamed into safety).
        if (ModelNames.IsValidId(modelId) || Path.IsPathRooted(modelId) || modelId.Split('/', '\\').Any(s => s is "." or ".."))
        {
            return modelId;
        }

        var joined = string.Join("--", modelId.Split('/', ':', '@'));
        return ModelNames.IsValidId(joined) && !joined.Split("--").Any(s => s is "" or "." or "..") ? joined : FileKey(modelId);
    }

    /// <summary>Where a folder model's files gather until all are verified: <c>downloads/&lt;key&gt;.partial.d/</c>.</summary>
    public string FolderStaging => Staging.Folder;

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

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._-]{0,99}\z")]
    private static partial Regex PlainId();

    [GeneratedRegex("[^a-z0-9._-]")]
    private static partial Regex UnsafeChars();
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
