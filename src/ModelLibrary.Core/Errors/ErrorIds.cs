namespace ModelLibrary;

/// <summary>Stable ErrorIds of the contract; scripts match on these, so they never change.</summary>
public static class ErrorIds
{
    public const string ModelNotFound = nameof(ModelNotFound);
    public const string DownloadTaskNotFound = nameof(DownloadTaskNotFound);
    public const string InsufficientDiskSpace = nameof(InsufficientDiskSpace);
    public const string NetworkFailure = nameof(NetworkFailure);
    public const string ChecksumMismatch = nameof(ChecksumMismatch);
    public const string InvalidModelFile = nameof(InvalidModelFile);
    public const string InsecureSource = nameof(InsecureSource);
    public const string UnsafeModelContent = nameof(UnsafeModelContent);

    // Beyond the contract's table: the contract is silent on these cases.
    public const string InvalidConfiguration = nameof(InvalidConfiguration);
    /// <summary>registry.db cannot be created or opened (a library directory that cannot be written, a broken file).</summary>
    public const string RegistryUnavailable = nameof(RegistryUnavailable);
    public const string ModelSourceNotFound = nameof(ModelSourceNotFound);
    public const string ModelSourceExists = nameof(ModelSourceExists);
    public const string InvalidModelSource = nameof(InvalidModelSource);
    public const string ModelSourceUnavailable = nameof(ModelSourceUnavailable);
    public const string InvalidProviderDefinition = nameof(InvalidProviderDefinition);
    public const string ProviderNotFound = nameof(ProviderNotFound);
    public const string ProviderExists = nameof(ProviderExists);
    /// <summary>A step of Test-ModelLibraryIntegration failed; the step is the error's target.</summary>
    public const string IntegrationStepFailed = nameof(IntegrationStepFailed);
    public const string DownloadInProgress = nameof(DownloadInProgress);
    public const string InvalidDownloadState = nameof(InvalidDownloadState);
    /// <summary>A download failed for a reason none of the above covers (e.g. a disk I/O error).</summary>
    public const string DownloadFailed = nameof(DownloadFailed);

    // Model files: metadata, validation and import.
    /// <summary>The model has no file in this library (not downloaded, or its file is gone).</summary>
    public const string ModelNotLocal = nameof(ModelNotLocal);
    /// <summary>An import would replace a model that is already Local.</summary>
    public const string ModelExists = nameof(ModelExists);
    /// <summary>A model id outside the safe alphabet (letters, digits, '.', '_', '-').</summary>
    public const string InvalidModelId = nameof(InvalidModelId);

    /// <summary>Measure-LibraryModel: the companion module ModelLibrary.Inference (embedded llama.cpp) is not installed or does not load.</summary>
    public const string InferenceEngineNotFound = nameof(InferenceEngineNotFound);

    // The contract's "Version 2" ids.
    /// <summary>401/403 from a Hub or registry, gated repositories included.</summary>
    public const string AuthenticationRequired = nameof(AuthenticationRequired);
    /// <summary>A reference that names several models (e.g. a Hub repository with several quantizations and no Q4_K_M).</summary>
    public const string AmbiguousModelReference = nameof(AmbiguousModelReference);
    /// <summary>A change refused because the model lives in another tool's store.</summary>
    public const string ExternalStore = nameof(ExternalStore);

    /// <summary>A cmdlet met an exception the library did not raise on purpose (a defect); reported for that input only.</summary>
    public const string UnexpectedError = nameof(UnexpectedError);
}

/// <summary>
/// What kind of failure an error is, independent of any host. The PowerShell layer maps this to ErrorCategory.
/// </summary>
public enum ErrorKind
{
    NotFound,
    InvalidArgument,
    InvalidData,
    InvalidOperation,
    ResourceUnavailable,
    ConnectionError,
    SecurityError,
    ResourceExists,
    OperationStopped,
    Timeout,
    /// <summary>The resource is in use by someone else (another process downloading the same model).</summary>
    ResourceBusy,
    /// <summary>Credentials are missing or refused.</summary>
    AuthenticationError,
}
