using System.ComponentModel;

namespace ModelLibrary;

/// <summary>
/// Base of every error the library raises on purpose. Carries a stable <see cref="ErrorId"/>, a host-neutral
/// <see cref="Kind"/> (the id's one kind, from <see cref="ErrorCatalogue"/>), the seed's <see cref="ErrorInfo"/>,
/// and the object the error is about. Build them with <see cref="Errors"/>, one factory per ErrorId.
/// </summary>
public class ModelLibraryException : Exception
{
    internal ModelLibraryException(string errorId, string message,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null,
        object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = ErrorCatalogue.KindOf(errorId);
        Target = target;
        ErrorInfo = new ErrorInfo(SeedTypeName, message, details, resolutionSteps);
    }

    /// <summary>Kept so code written before <see cref="Errors"/> still builds; the kind always comes from <see cref="ErrorCatalogue"/>.</summary>
    [Obsolete("Build errors with the Errors factory (one per ErrorId); the kind argument is ignored in favour of ErrorCatalogue.KindOf(errorId).")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public ModelLibraryException(string errorId, ErrorKind kind, string message,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null,
        object? target = null, Exception? inner = null)
        : this(errorId, message, details, resolutionSteps, target, inner)
    {
    }

    public string ErrorId { get; }
    public ErrorKind Kind { get; }
    public ErrorInfo ErrorInfo { get; }
    /// <summary>The model id, task, path or source the error is about.</summary>
    public object? Target { get; }

    /// <summary>The seed's name for this class of error (ErrorInfo.Type).</summary>
    protected virtual string SeedTypeName => "ModelLibraryError";

    [Obsolete("Use Errors.ModelNotFound.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ModelLibraryException ModelNotFound(string id) => Errors.ModelNotFound(id);

    [Obsolete("Use Errors.DownloadTaskNotFound.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ModelLibraryException TaskNotFound(string taskId) => Errors.DownloadTaskNotFound(taskId);

    [Obsolete("Use Errors.LibraryReadOnly.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ModelLibraryException LibraryReadOnly(string path, string why, Exception? inner = null) => Errors.LibraryReadOnly(path, why, inner);
}

/// <summary>Network failures: retries exhausted, DNS, TLS, HTTP 4xx/5xx (ErrorId NetworkFailure).</summary>
public sealed class NetworkException : ModelLibraryException
{
    public NetworkException(string message, int? httpStatus = null, object? target = null, Exception? inner = null,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null)
        : base(ErrorIds.NetworkFailure, message, details,
            resolutionSteps ?? new[] { "Check the network connection and the download URL.", "Run Resume-ModelDownload to continue from the bytes already on disk." },
            target, inner)
    {
        HttpStatus = httpStatus;
    }

    public int? HttpStatus { get; }
    protected override string SeedTypeName => "NetworkError";
}

/// <summary>Not enough free space for a download; checked before the first byte (ErrorId InsufficientDiskSpace).</summary>
public sealed class DiskSpaceException : ModelLibraryException
{
    public DiskSpaceException(string modelId, long requiredSpace, long availableSpace, string path)
        : base(ErrorIds.InsufficientDiskSpace,
            $"Insufficient disk space to download '{modelId}': {requiredSpace} bytes required, {availableSpace} bytes available on the volume of '{path}'.",
            new Dictionary<string, object?>
            {
                ["required_space"] = requiredSpace,
                ["available_space"] = availableSpace,
                ["model_id"] = modelId,
            },
            new[] { "Free up disk space", "Choose a smaller model", "Change download location (Set-ModelLibraryConfiguration -ModelsDirectory)" },
            modelId)
    {
        RequiredSpace = requiredSpace;
        AvailableSpace = availableSpace;
    }

    /// <summary>The volume filled up under SQLite (registry.db): nothing was saved of the change.</summary>
    public DiskSpaceException(string path, long availableSpace, Exception inner)
        : base(ErrorIds.InsufficientDiskSpace,
            $"The disk holding the library registry '{path}' is full ({availableSpace} bytes available); the change was not saved.",
            new Dictionary<string, object?> { ["required_space"] = null, ["available_space"] = availableSpace, ["model_id"] = null, ["path"] = path },
            new[] { "Free up disk space on that volume (a failed download's partial file in downloads/ may be large).", "Then run the command again." },
            path, inner)
    {
        AvailableSpace = availableSpace;
    }

    public long RequiredSpace { get; }
    public long AvailableSpace { get; }
    protected override string SeedTypeName => "DiskSpaceError";
}

/// <summary>Content that is not what it claims: ChecksumMismatch, InvalidModelFile.</summary>
public sealed class ValidationException : ModelLibraryException
{
    internal ValidationException(string errorId, string message, object? target,
        IReadOnlyDictionary<string, object?>? details, IReadOnlyList<string> resolutionSteps, Exception? inner = null)
        : base(errorId, message, details, resolutionSteps, target, inner)
    {
    }

    [Obsolete("Use Errors.InvalidModelFile.")]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static ValidationException InvalidFile(string path, string reason, Exception? inner = null) => Errors.InvalidModelFile(path, reason, inner);

    protected override string SeedTypeName => "ValidationError";
}

/// <summary>
/// Refused for safety: InsecureSource, UnsafeModelContent (a pickle that runs code, a path that leaves its directory).
/// Named apart from <see cref="System.Security.SecurityException"/>; the seed's name (ErrorInfo.Type) stays SecurityError.
/// </summary>
public sealed class ModelSecurityException : ModelLibraryException
{
    internal ModelSecurityException(string errorId, string message, object? target,
        IReadOnlyDictionary<string, object?>? details, IReadOnlyList<string>? resolutionSteps)
        : base(errorId, message, details, resolutionSteps, target)
    {
    }

    protected override string SeedTypeName => "SecurityError";
}
