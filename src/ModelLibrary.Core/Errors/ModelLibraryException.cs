namespace ModelLibrary;

/// <summary>
/// Base of every error the library raises on purpose. Carries a stable <see cref="ErrorId"/>, a host-neutral
/// <see cref="Kind"/>, the seed's <see cref="ErrorInfo"/>, and the object the error is about.
/// </summary>
public class ModelLibraryException : Exception
{
    public ModelLibraryException(string errorId, ErrorKind kind, string message,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null,
        object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
        ErrorInfo = new ErrorInfo(SeedTypeName, message, details, resolutionSteps);
    }

    public string ErrorId { get; }
    public ErrorKind Kind { get; }
    public ErrorInfo ErrorInfo { get; }
    /// <summary>The model id, task, path or source the error is about.</summary>
    public object? Target { get; }

    /// <summary>The seed's name for this class of error (ErrorInfo.Type).</summary>
    protected virtual string SeedTypeName => "ModelLibraryError";

    public static ModelLibraryException ModelNotFound(string id) => new(
        ErrorIds.ModelNotFound, ErrorKind.NotFound, $"No model has the id '{id}'.",
        new Dictionary<string, object?> { ["model_id"] = id },
        new[] { "Run Get-LibraryModel to list the known model ids.", "Check the spelling of the id, or register the source that provides it with Register-ModelSource." },
        id);

    /// <summary>A Hub or registry wants credentials it did not get (or refused the ones it got); <paramref name="steps"/> say what to do.</summary>
    public static ModelLibraryException AuthenticationRequired(string target, string message, IReadOnlyList<string> steps, IReadOnlyDictionary<string, object?>? details = null) => new(
        ErrorIds.AuthenticationRequired, ErrorKind.SecurityError, message,
        details ?? new Dictionary<string, object?> { ["reference"] = target }, steps, target);

    /// <summary>A reference that names several models; the message and details list every choice as a full reference.</summary>
    public static ModelLibraryException AmbiguousModelReference(string reference, IReadOnlyList<string> choices, string why) => new(
        ErrorIds.AmbiguousModelReference, ErrorKind.InvalidArgument,
        $"'{reference}' names {choices.Count} models ({why}); choose one: {string.Join(", ", choices)}.",
        new Dictionary<string, object?> { ["reference"] = reference, ["choices"] = choices.ToArray() },
        new[] { $"Give the quantization after ':', e.g. Start-ModelDownload {choices.FirstOrDefault()}.", $"Run Get-LibraryModel {reference} to list them." },
        reference);

    /// <summary>
    /// A write to a library this session may read but not write (another user's, a read-only mount): what could not
    /// be written, and what helps. Reading such a library works.
    /// </summary>
    public static ModelLibraryException LibraryReadOnly(string path, string why, Exception? inner = null) => new(
        ErrorIds.RegistryUnavailable, ErrorKind.ResourceUnavailable,
        $"The library is read-only for this session: '{path}' {why}. Listing and reading models work; changing the library does not.",
        new Dictionary<string, object?> { ["path"] = path, ["read_only"] = true },
        new[]
        {
            "Run the command as the user who owns the library folder (MODELS_DIR), or have them give you write access to it and its files.",
            "Or use a library of your own: Set-ModelLibraryConfiguration -ModelsDirectory <a folder you can write>.",
        },
        path, inner);

    public static ModelLibraryException TaskNotFound(string taskId) => new(
        ErrorIds.DownloadTaskNotFound, ErrorKind.NotFound, $"No download task has the id '{taskId}'.",
        new Dictionary<string, object?> { ["task_id"] = taskId },
        new[] { "Run Get-ModelDownload to list the download tasks." },
        taskId);
}

/// <summary>Network failures: retries exhausted, DNS, TLS, HTTP 4xx/5xx.</summary>
public sealed class NetworkException : ModelLibraryException
{
    public NetworkException(string message, int? httpStatus = null, object? target = null, Exception? inner = null,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null)
        : base(ErrorIds.NetworkFailure, ErrorKind.ConnectionError, message, details,
            resolutionSteps ?? new[] { "Check the network connection and the download URL.", "Run Resume-ModelDownload to continue from the bytes already on disk." },
            target, inner)
    {
        HttpStatus = httpStatus;
    }

    public int? HttpStatus { get; }
    protected override string SeedTypeName => "NetworkError";
}

/// <summary>Not enough free space for a download; checked before the first byte.</summary>
public sealed class DiskSpaceException : ModelLibraryException
{
    public DiskSpaceException(string modelId, long requiredSpace, long availableSpace, string path)
        : base(ErrorIds.InsufficientDiskSpace, ErrorKind.ResourceUnavailable,
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
        : base(ErrorIds.InsufficientDiskSpace, ErrorKind.ResourceUnavailable,
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

/// <summary>Content that is not what it claims: checksum mismatch, unreadable or truncated header.</summary>
public sealed class ValidationException : ModelLibraryException
{
    public ValidationException(string errorId, string message, object? target = null,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null, Exception? inner = null)
        : base(errorId, ErrorKind.InvalidData, message, details,
            resolutionSteps ?? new[] { "Download the model again (Start-ModelDownload -Force).", "Check that the source serves the file its catalog describes." },
            target, inner)
    {
    }

    public static ValidationException InvalidFile(string path, string reason, Exception? inner = null) => new(
        ErrorIds.InvalidModelFile, $"'{path}' is not a valid model file: {reason}", path,
        new Dictionary<string, object?> { ["path"] = path, ["reason"] = reason },
        new[] { "Check that the file is a complete GGUF or safetensors file.", "Download it again if it was truncated." },
        inner);

    protected override string SeedTypeName => "ValidationError";
}

/// <summary>Refused for safety: insecure source, unsafe pickle content, a path that leaves its directory.</summary>
public sealed class SecurityException : ModelLibraryException
{
    public SecurityException(string errorId, string message, object? target = null,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null)
        : base(errorId, ErrorKind.SecurityError, message, details, resolutionSteps, target)
    {
    }

    public static SecurityException PathOutsideRoot(string path, string root) => new(
        ErrorIds.UnsafeModelContent, $"The path '{path}' resolves outside the library directory '{root}'; refusing to touch it.",
        path,
        new Dictionary<string, object?> { ["path"] = path, ["root"] = root },
        new[] { "Check the model's registered LocalPath and any symbolic links in the library directory." });

    /// <summary>A path outside every library folder; the folders are named one by one.</summary>
    public static SecurityException PathOutsideRoot(string path, IReadOnlyList<string> roots) => new(
        ErrorIds.UnsafeModelContent,
        $"The path '{path}' resolves outside the library folders ({string.Join(", ", roots.Select(r => $"'{r}'"))}); refusing to touch it.",
        path,
        new Dictionary<string, object?> { ["path"] = path, ["roots"] = roots.ToArray() },
        new[] { "Check the model's registered LocalPath and any symbolic links in the library directory." });

    protected override string SeedTypeName => "SecurityError";
}
