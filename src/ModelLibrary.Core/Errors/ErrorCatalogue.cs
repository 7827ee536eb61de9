namespace ModelLibrary;

/// <summary>
/// The one ErrorKind of each ErrorId. <see cref="ModelLibraryException"/> takes its kind from here, so an id
/// reaches PowerShell with the same ErrorCategory wherever it is raised; <see cref="Errors"/> builds each id.
/// </summary>
public static class ErrorCatalogue
{
    static readonly Dictionary<string, ErrorKind> Kinds = new(StringComparer.Ordinal)
    {
        [ErrorIds.ModelNotFound] = ErrorKind.NotFound,
        [ErrorIds.DownloadTaskNotFound] = ErrorKind.NotFound,
        [ErrorIds.InsufficientDiskSpace] = ErrorKind.ResourceUnavailable,
        [ErrorIds.NetworkFailure] = ErrorKind.ConnectionError,
        [ErrorIds.ChecksumMismatch] = ErrorKind.InvalidData,
        [ErrorIds.InvalidModelFile] = ErrorKind.InvalidData,
        [ErrorIds.InsecureSource] = ErrorKind.SecurityError,
        [ErrorIds.UnsafeModelContent] = ErrorKind.SecurityError,

        [ErrorIds.InvalidConfiguration] = ErrorKind.InvalidArgument,
        [ErrorIds.RegistryUnavailable] = ErrorKind.ResourceUnavailable,
        [ErrorIds.ModelSourceNotFound] = ErrorKind.NotFound,
        [ErrorIds.ModelSourceExists] = ErrorKind.ResourceExists,
        [ErrorIds.InvalidModelSource] = ErrorKind.InvalidArgument,
        [ErrorIds.ModelSourceUnavailable] = ErrorKind.ResourceUnavailable,
        [ErrorIds.InvalidProviderDefinition] = ErrorKind.InvalidArgument,
        [ErrorIds.ProviderNotFound] = ErrorKind.NotFound,
        [ErrorIds.ProviderExists] = ErrorKind.ResourceExists,
        [ErrorIds.IntegrationStepFailed] = ErrorKind.ResourceUnavailable,
        [ErrorIds.DownloadInProgress] = ErrorKind.ResourceBusy,
        [ErrorIds.InvalidDownloadState] = ErrorKind.InvalidOperation,
        [ErrorIds.DownloadFailed] = ErrorKind.InvalidOperation,

        [ErrorIds.ModelNotLocal] = ErrorKind.InvalidOperation,
        [ErrorIds.ModelExists] = ErrorKind.ResourceExists,
        [ErrorIds.InvalidModelId] = ErrorKind.InvalidArgument,
        [ErrorIds.InferenceEngineNotFound] = ErrorKind.ResourceUnavailable,

        [ErrorIds.AuthenticationRequired] = ErrorKind.AuthenticationError,
        [ErrorIds.AmbiguousModelReference] = ErrorKind.InvalidArgument,
        [ErrorIds.ExternalStore] = ErrorKind.InvalidOperation,

        [ErrorIds.UnexpectedError] = ErrorKind.InvalidOperation,
    };

    /// <summary>Every catalogued ErrorId.</summary>
    public static IReadOnlyCollection<string> Ids => Kinds.Keys;

    public static bool Contains(string errorId) => Kinds.ContainsKey(errorId);

    /// <summary>The id's kind; an id this version does not know (a task row written by a newer one) is an InvalidOperation.</summary>
    public static ErrorKind KindOf(string errorId) => Kinds.TryGetValue(errorId, out var kind) ? kind : ErrorKind.InvalidOperation;
}
