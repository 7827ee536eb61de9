namespace ModelLibrary;

/// <summary>
/// The one factory for each ErrorId: every error the library raises on purpose is built here, so an id always comes
/// with the same exception type (and seed name), the same kind (<see cref="ErrorCatalogue"/>), the same detail keys
/// and the same resolution steps. A method is named after its id; overloads only say the same thing another way.
/// </summary>
public static class Errors
{
    static Dictionary<string, object?> Details(params (string Key, object? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    // ---- The contract's ids -------------------------------------------------------------------------------------

    /// <summary>No model has that exact id.</summary>
    public static ModelLibraryException ModelNotFound(string id) => new(
        ErrorIds.ModelNotFound, $"No model has the id '{id}'.",
        Details(("model_id", id)),
        new[] { "Run Get-LibraryModel to list the known model ids.", "Check the spelling of the id, or register the source that provides it with Register-ModelSource." },
        id);

    /// <summary>No task has the id <paramref name="taskId"/>; or, given <paramref name="modelId"/> only, the model has no unfinished task.</summary>
    public static ModelLibraryException DownloadTaskNotFound(string? taskId, string? modelId = null) => new(
        ErrorIds.DownloadTaskNotFound,
        taskId is not null ? $"No download task has the id '{taskId}'." : $"Model '{modelId}' has no unfinished download task.",
        Details(("task_id", taskId), ("model_id", modelId)),
        new[] { "Run Get-ModelDownload to list the download tasks." },
        taskId ?? modelId);

    /// <summary>
    /// A reference a source answers for but has nothing under (a registry's missing tag or blob; a Hub repository,
    /// revision, file or quantization): <paramref name="message"/> says what is missing, <paramref name="steps"/> what to try.
    /// </summary>
    public static ModelLibraryException ModelNotFound(string id, string message, IReadOnlyDictionary<string, object?> details, IReadOnlyList<string> steps) => new(
        ErrorIds.ModelNotFound, message, details, steps, id);

    /// <summary>Checked before the first byte; also when the disk fills during a download.</summary>
    public static DiskSpaceException InsufficientDiskSpace(string modelId, long requiredSpace, long availableSpace, string path) =>
        new(modelId, requiredSpace, availableSpace, path);

    /// <summary>The volume filled up under SQLite (registry.db): nothing was saved of the change.</summary>
    public static DiskSpaceException InsufficientDiskSpace(string registryPath, long availableSpace, Exception inner) =>
        new(registryPath, availableSpace, inner);

    /// <summary>Retries exhausted, DNS, TLS, HTTP 4xx/5xx, a download that ran out of time.</summary>
    public static NetworkException NetworkFailure(string message, int? httpStatus = null, object? target = null, Exception? inner = null,
        IReadOnlyDictionary<string, object?>? details = null, IReadOnlyList<string>? resolutionSteps = null) =>
        new(message, httpStatus, target, inner, details, resolutionSteps);

    static readonly string[] ChecksumSteps =
    {
        "Download the model again (Start-ModelDownload -Force).",
        "If it fails again, the source serves a different file than its catalog describes; report it to the source.",
    };

    /// <summary>The SHA-256 of <paramref name="path"/> is not the one expected; <paramref name="outcome"/> says what became of the file.</summary>
    public static ValidationException ChecksumMismatch(string path, string expected, string actual, string? modelId, string? outcome = null) => new(
        ErrorIds.ChecksumMismatch,
        $"The SHA-256 of '{path}' is {actual}, but {(modelId is null ? "the expected one is" : $"the model '{modelId}' declares")} {expected}." +
            (outcome is null ? "" : " " + outcome),
        modelId ?? (object)path,
        Details(("path", path), ("expected", expected), ("actual", actual), ("model_id", modelId)),
        ChecksumSteps);

    /// <summary>A validation whose first failure is a checksum mismatch (the message sums up every failed check).</summary>
    public static ValidationException ChecksumMismatch(string message, object target, IReadOnlyDictionary<string, object?> details, string? lastStep = null) => new(
        ErrorIds.ChecksumMismatch, message, target, details, With(ChecksumSteps, lastStep));

    static readonly string[] InvalidFileSteps =
    {
        "Check that the file is a complete GGUF, safetensors or PyTorch file.",
        "Download it again if it was truncated.",
    };

    /// <summary>Header unreadable, wrong format, truncated; a folder that holds no model, or several.</summary>
    public static ValidationException InvalidModelFile(string path, string reason, Exception? inner = null) => new(
        ErrorIds.InvalidModelFile, $"'{path}' is not a valid model file: {reason}", path,
        Details(("path", path), ("reason", reason)),
        InvalidFileSteps, inner);

    /// <summary>A validation whose first failure is an invalid file (the message sums up every failed check).</summary>
    public static ValidationException InvalidModelFile(string message, object target, IReadOnlyDictionary<string, object?> details, string? lastStep = null) => new(
        ErrorIds.InvalidModelFile, message, target, details, With(InvalidFileSteps, lastStep));

    /// <summary>Plain http to a host that is not loopback (unless allowed), or a scheme other than http(s).</summary>
    public static ModelSecurityException InsecureSource(string message, object? target, IReadOnlyDictionary<string, object?>? details,
        IReadOnlyList<string>? resolutionSteps) => new(ErrorIds.InsecureSource, message, target, details, resolutionSteps);

    static readonly string[] UnsafeContentSteps =
    {
        "Do not load this file with torch.load, torch.jit.load or pickle.",
        "Use a safetensors or GGUF version of the model, or a source you trust.",
    };

    /// <summary>Content that can run code when loaded (pickle imports off the allowlist, TorchScript code).</summary>
    public static ModelSecurityException UnsafeModelContent(string message, object target, IReadOnlyDictionary<string, object?> details, string? lastStep = null) =>
        new(ErrorIds.UnsafeModelContent, message, target, details, With(UnsafeContentSteps, lastStep));

    /// <summary>UnsafeModelContent for a path outside every library folder; the folders are named one by one.</summary>
    public static ModelSecurityException PathOutsideRoot(string path, IReadOnlyList<string> roots) => new(
        ErrorIds.UnsafeModelContent,
        $"The path '{path}' resolves outside the library folders ({string.Join(", ", roots.Select(r => $"'{r}'"))}); refusing to touch it.",
        path,
        Details(("path", path), ("roots", roots.ToArray())),
        new[] { "Check the model's registered LocalPath and any symbolic links in the library directory." });

    /// <summary>UnsafeModelContent for a path that resolves outside the directory it must stay in.</summary>
    public static ModelSecurityException PathOutsideRoot(string path, string root) => new(
        ErrorIds.UnsafeModelContent, $"The path '{path}' resolves outside the library directory '{root}'; refusing to touch it.",
        path,
        Details(("path", path), ("root", root)),
        new[] { "Check the model's registered LocalPath and any symbolic links in the library directory." });

    /// <summary>UnsafeModelContent for a file path inside a model (a reference's or a listing's) that leaves its folder.</summary>
    public static ModelSecurityException PathLeavesModelFolder(string path, object target) => new(
        ErrorIds.UnsafeModelContent,
        $"The file path '{path}' leaves the model's folder (absolute, '..', or an empty segment); refusing it.",
        target,
        Details(("path", path)),
        new[] { "Name a file by its path inside the repository, like hf.co/<owner>/<repo>/<folder>/<file>." });

    // ---- Beyond the contract's table ----------------------------------------------------------------------------

    /// <summary>A setting's value is not valid; <paramref name="steps"/> replace the default advice.</summary>
    public static ModelLibraryException InvalidConfiguration(string variable, string value, string why, IReadOnlyList<string>? steps = null) => new(
        ErrorIds.InvalidConfiguration,
        $"The configuration value {variable}='{value}' is not valid: {why}.",
        Details(("variable", variable), ("value", value)),
        steps ?? new[] { $"Correct or unset the environment variable {variable}, or override it with Set-ModelLibraryConfiguration." },
        variable);

    /// <summary>registry.db cannot be created or opened, or was written by a newer version.</summary>
    public static ModelLibraryException RegistryUnavailable(string path, string why, Exception? inner = null, IReadOnlyList<string>? steps = null) => new(
        ErrorIds.RegistryUnavailable,
        $"The library registry '{path}' cannot be opened: {why}",
        Details(("path", path)),
        steps ?? new[] { "Check that the library directory (MODELS_DIR) exists or can be created, and that you may write to it.", "Point the library elsewhere with Set-ModelLibraryConfiguration -ModelsDirectory." },
        path, inner);

    /// <summary>
    /// RegistryUnavailable for a write to a library this session may read but not write (another user's, a read-only
    /// mount): what could not be written, and what helps. Reading such a library works.
    /// </summary>
    public static ModelLibraryException LibraryReadOnly(string path, string why, Exception? inner = null) => new(
        ErrorIds.RegistryUnavailable,
        $"The library is read-only for this session: '{path}' {why}. Listing and reading models work; changing the library does not.",
        Details(("path", path), ("read_only", true)),
        new[]
        {
            "Run the command as the user who owns the library folder (MODELS_DIR), or have them give you write access to it and its files.",
            "Or use a library of your own: Set-ModelLibraryConfiguration -ModelsDirectory <a folder you can write>.",
        },
        path, inner);

    /// <summary>Measure-LibraryModel: the companion module (embedded llama.cpp) is missing, or it did not load.</summary>
    public static ModelLibraryException InferenceEngineNotFound(string? folder, Exception? inner = null) => new(
        ErrorIds.InferenceEngineNotFound,
        inner is null
            ? $"The inference engine (companion module {Inference.InferenceEngineLoader.ModuleName}) was not found{(folder is null ? "" : $" in '{folder}'")}."
            : $"The inference engine in '{folder}' could not be loaded: {inner.Message}",
        Details(("path", folder)),
        new[]
        {
            $"Install it: Install-PSResource {Inference.InferenceEngineLoader.ModuleName} (from the repository ModelLibrary came from; ./build.ps1 Package writes out/{Inference.InferenceEngineLoader.ModuleName}.<version>.nupkg), or build it with ./build.ps1 Build (out/{Inference.InferenceEngineLoader.ModuleName} beside out/ModelLibrary).",
            "Measuring is optional: Test-ProviderCompatibility and Get-ProviderModelSuggestion estimate speed without it.",
        },
        folder, inner);

    public static ModelLibraryException ModelSourceNotFound(string name) => new(
        ErrorIds.ModelSourceNotFound, $"No model source is named '{name}'.",
        Details(("source", name)),
        new[] { "Run Get-ModelSource to list the sources." }, name);

    public static ModelLibraryException ModelSourceExists(string name) => new(
        ErrorIds.ModelSourceExists, $"A model source named '{name}' is already registered.",
        Details(("source", name)),
        new[] { "Choose another name, or replace it with -Force.", "Run Get-ModelSource to list the sources." }, name);

    /// <summary>A source that cannot be registered (<paramref name="why"/> says why).</summary>
    public static ModelLibraryException InvalidModelSource(string name, string why) => new(
        ErrorIds.InvalidModelSource, $"Cannot register model source '{name}': {why}.",
        Details(("source", name)),
        new[] { "Give -Uri as an https:// URL or the path of a catalog JSON file." }, name);

    /// <summary>A source reference that is not valid where it is given (a registry reference for -Destination, say).</summary>
    public static ModelLibraryException InvalidModelSource(string reference, string message, IReadOnlyDictionary<string, object?> details, IReadOnlyList<string> steps) => new(
        ErrorIds.InvalidModelSource, message, details, steps, reference);

    /// <summary>The built-in catalog is part of the module.</summary>
    public static ModelLibraryException BuiltInCatalogFixed(string name, string builtInName) => new(
        ErrorIds.InvalidModelSource, $"The built-in catalog '{builtInName}' is part of the module and cannot be unregistered.",
        Details(("source", name)),
        new[] { "Run Get-ModelSource to see the sources you registered; only those can be unregistered.", "To list models of one source only, use Get-LibraryModel -Source <name>." },
        name);

    /// <summary>A catalog a source serves that cannot be read as one.</summary>
    public static ModelLibraryException MalformedCatalog(string sourceName, string why, Exception? inner = null) => new(
        ErrorIds.InvalidModelSource, $"The catalog of model source '{sourceName}' is malformed: {why}.",
        Details(("source", sourceName)),
        new[] { "Check the catalog the source serves against the catalog format in about_ModelLibrary.", $"Remove the source with Unregister-ModelSource -Name {sourceName}." },
        sourceName, inner);

    /// <summary>A reference of a kind that names no source to download it from (a bare URL: that is Start-ModelDownload -Uri).</summary>
    public static ModelLibraryException ReferenceNotDownloadable(string reference, string kind) => new(
        ErrorIds.InvalidModelSource, $"'{reference}' is an {kind} reference, which cannot be downloaded by id.",
        Details(("reference", reference), ("kind", kind)),
        new[] { "For a file at a URL, use Start-ModelDownload -Uri <url> [-Id <id>].", "Otherwise give a catalog id, an hf.co/<owner>/<repo> reference or an OCI <registry>/<repository>[:<tag>] reference." },
        reference);

    /// <summary>A checksum given for a download that is not a SHA-256.</summary>
    public static ModelLibraryException InvalidChecksum(string checksum) => new(
        ErrorIds.InvalidModelSource, $"The checksum '{checksum}' is not a SHA-256 (sha256:<64 hex digits>).",
        Details(("checksum", checksum)),
        new[] { "Give -Checksum as sha256:<hex> or 64 hex digits." },
        checksum);

    /// <summary>ModelExists for an id that a model of another source already has (the id must be another, -Force does not take it over).</summary>
    public static ModelLibraryException IdTakenBySource(string id, string? source) => new(
        ErrorIds.ModelExists,
        $"The id '{id}' already names a model of source '{source}'; give -Id another id.",
        Details(("model_id", id), ("source", source)),
        new[] { "Choose another -Id." },
        id);

    /// <summary>A catalog entry without a usable download URL.</summary>
    public static ModelLibraryException NoDownloadUrl(ModelInfo model) => new(
        ErrorIds.InvalidModelSource, $"Model '{model.Id}' has no valid download URL ('{model.DownloadUrl}').",
        Details(("model_id", model.Id), ("download_url", model.DownloadUrl)),
        new[] { "Check the catalog entry's download_url.", "Refresh the model source with Get-ModelSource." },
        model.Id);

    /// <summary>A source that cannot be read now; <paramref name="steps"/> (the cause's own advice) replace the default.</summary>
    public static ModelLibraryException ModelSourceUnavailable(string name, string? uri, string why, Exception? inner = null, IReadOnlyList<string>? steps = null) => new(
        ErrorIds.ModelSourceUnavailable, $"Model source '{name}' is unavailable: {why.TrimEnd('.')}.",
        Details(("source", name), ("uri", uri), ("cause", (inner as ModelLibraryException)?.ErrorId)),
        steps ?? new[] { "Check the source's URI and the network.", $"Remove the source with Unregister-ModelSource -Name {name}." },
        name, inner);

    /// <summary>A provider definition that is not valid, or a change a provider does not allow (<paramref name="steps"/>).</summary>
    public static ModelLibraryException InvalidProviderDefinition(string? name, IReadOnlyList<string> problems, IReadOnlyList<string> steps, Exception? inner = null) => new(
        ErrorIds.InvalidProviderDefinition,
        $"The provider definition{(name is null ? "" : $" '{name}'")} is not valid: {string.Join("; ", problems)}.",
        Details(("name", name), ("problems", problems.ToArray())),
        steps, name, inner);

    /// <summary>A built-in provider cannot be unregistered.</summary>
    public static ModelLibraryException BuiltInProviderFixed(string name) => new(
        ErrorIds.InvalidProviderDefinition, $"'{name}' is a built-in provider and cannot be unregistered.",
        Details(("name", name)),
        new[] { "Register a definition with the same name and -Force to change it instead." }, name);

    public static ModelLibraryException ProviderNotFound(string name, IEnumerable<string> known)
    {
        var names = known.ToArray();
        return new(ErrorIds.ProviderNotFound,
            $"No provider is named '{name}'. Known providers: {string.Join(", ", names)}.",
            Details(("provider", name), ("known_providers", names)),
            new[] { "Run Get-ModelProvider to list the providers.", "Register a new one with Register-ModelProvider." },
            name);
    }

    public static ModelLibraryException ProviderExists(string name, bool builtIn) => new(
        ErrorIds.ProviderExists,
        $"'{name}' is {(builtIn ? "a built-in provider" : "an already registered provider")}; refusing to replace it without Force.",
        Details(("name", name), ("built_in", builtIn)),
        new[] { "Choose another name.", "Use -Force to replace the existing definition." },
        name);

    /// <summary>A step of Test-ModelLibraryIntegration failed; the step is the target.</summary>
    public static ModelLibraryException IntegrationStepFailed(string step, string message, double durationSeconds, IReadOnlyList<string>? steps, object target, Exception? inner) => new(
        ErrorIds.IntegrationStepFailed, $"{step} failed: {message}",
        Details(("step", step), ("duration_seconds", durationSeconds)),
        steps, target, inner);

    /// <summary>Another download of the model is running (in this process or another); <paramref name="why"/> says what was refused.</summary>
    public static ModelLibraryException DownloadInProgress(string modelId, string why) => new(
        ErrorIds.DownloadInProgress, $"'{modelId}' is being downloaded: {why}.",
        Details(("model_id", modelId)),
        new[] { $"Wait for that download (Get-ModelDownload -ModelId {modelId} | Wait-ModelDownload), or stop it (Stop-ModelDownload), then try again." },
        modelId);

    /// <summary>A task whose status does not allow <paramref name="action"/>.</summary>
    public static ModelLibraryException InvalidDownloadState(DownloadTask task, string action) => new(
        ErrorIds.InvalidDownloadState, $"Task '{task.TaskId}' of '{task.ModelId}' is {task.Status} and cannot be {action}.",
        Details(("task_id", task.TaskId), ("model_id", task.ModelId), ("status", task.Status.ToString())),
        new[] { "Run Get-ModelDownload to see the task's status." },
        task);

    /// <summary>A task that cannot be resumed because its saved download state is gone.</summary>
    public static ModelLibraryException NoSavedDownloadState(DownloadTask task) => new(
        ErrorIds.InvalidDownloadState, $"Task '{task.TaskId}' of '{task.ModelId}' has no saved download state to resume from.",
        Details(("task_id", task.TaskId), ("model_id", task.ModelId)),
        new[] { $"Start the download again with Start-ModelDownload -Id {task.ModelId}." },
        task);

    /// <summary>InvalidDownloadState: a task from a URL with credentials (never saved) that no source lists now.</summary>
    public static ModelLibraryException CredentialsNotSaved(DownloadTask task, string maskedUrl) => new(
        ErrorIds.InvalidDownloadState,
        $"Task '{task.TaskId}' of '{task.ModelId}' downloads from a URL with credentials, which are not saved, and no model source lists '{task.ModelId}' now.",
        Details(("task_id", task.TaskId), ("model_id", task.ModelId), ("url", maskedUrl)),
        new[] { "Register the source that lists the model again (Register-ModelSource), then run Resume-ModelDownload." },
        task);

    /// <summary>A download failed for a reason no other id covers (e.g. a disk I/O error); <paramref name="reason"/> replaces the inner message (masked URLs).</summary>
    public static ModelLibraryException DownloadFailed(string modelId, Exception inner, string? reason = null) => new(
        ErrorIds.DownloadFailed, $"Downloading '{modelId}' failed: {reason ?? inner.Message}",
        Details(("model_id", modelId)),
        new[] { "Run Resume-ModelDownload to try again from the bytes on disk." }, modelId, inner);

    /// <summary>
    /// The failure of a task that ran in another process, rebuilt from its registry row: same id, so the same kind
    /// and exception type as where it was raised (the original exception stayed in that process).
    /// </summary>
    public static ModelLibraryException FromTaskRow(DownloadTask task)
    {
        var id = task.ErrorId ?? ErrorIds.DownloadFailed;
        var message = task.ErrorMessage ?? $"Downloading '{task.ModelId}' failed.";
        var details = Details(("task_id", task.TaskId), ("model_id", task.ModelId));
        var steps = new[] { "Run Resume-ModelDownload to try again from the bytes on disk." };
        return id switch
        {
            ErrorIds.NetworkFailure => new NetworkException(message, null, task, null, details),
            ErrorIds.ChecksumMismatch or ErrorIds.InvalidModelFile => new ValidationException(id, message, task, details, steps),
            ErrorIds.InsecureSource or ErrorIds.UnsafeModelContent => new ModelSecurityException(id, message, task, details, steps),
            _ => new ModelLibraryException(id, message, details, steps, task),
        };
    }

    // ---- Model files: metadata, validation and import -----------------------------------------------------------

    public static ModelLibraryException ModelNotLocal(ModelInfo model, string? why = null) => new(
        ErrorIds.ModelNotLocal,
        why ?? $"The model '{model.Id}' has no file in this library (status {model.Status}).",
        Details(("model_id", model.Id), ("status", model.Status.ToString()), ("local_path", model.LocalPath)),
        new[] { $"Download it with Start-ModelDownload -Id {model.Id}, or register a file you have with Import-LibraryModel -Id {model.Id}." },
        model.Id);

    public static ModelLibraryException ModelExists(string id, string? localPath) => new(
        ErrorIds.ModelExists,
        $"A model with the id '{id}' is already in the library{(localPath is null ? "" : $" at '{localPath}'")}.",
        Details(("model_id", id), ("local_path", localPath)),
        new[] { "Choose another id with -Id, or replace the model with -Force." },
        id);

    public static ModelLibraryException InvalidModelId(string id) => new(
        ErrorIds.InvalidModelId,
        $"'{ModelNames.Echo(id)}' is not a valid model id: use {ModelNames.NameRule} (at most 200 characters).",
        Details(("model_id", id)),
        new[] { "Pass a different -Id." },
        id);

    /// <summary>InvalidModelId for a provider name (the same naming rule).</summary>
    public static ModelLibraryException InvalidProviderName(string name) => new(
        ErrorIds.InvalidModelId,
        $"'{ModelNames.Echo(name)}' is not a valid provider name: use {ModelNames.NameRule} (at most 64 characters).",
        Details(("provider", name)),
        new[] { "Pass a different -Provider; Get-ModelProvider lists the known ones." },
        name);

    // ---- Version 2 ----------------------------------------------------------------------------------------------

    /// <summary>401/403 from a Hub or registry (gated repositories too); <paramref name="steps"/> say what to do for that host.</summary>
    public static ModelLibraryException AuthenticationRequired(string reference, string message, int? httpStatus, IReadOnlyList<string> steps, Exception? inner = null) => new(
        ErrorIds.AuthenticationRequired, message,
        Details(("reference", reference), ("http_status", httpStatus)),
        steps, reference, inner);

    /// <summary>A reference that names several models; <paramref name="choices"/> are the references that would name one.</summary>
    public static ModelLibraryException AmbiguousModelReference(string reference, IReadOnlyList<string> choices, string? why = null) => new(
        ErrorIds.AmbiguousModelReference,
        $"'{reference}' names {(why ?? "several models")}: {string.Join(", ", choices)}.",
        Details(("reference", reference), ("choices", choices.ToArray())),
        new[] { "Name one of them, e.g. " + (choices.Count > 0 ? choices[0] : reference) + "." },
        reference);

    /// <summary>A change refused because the model lives in another tool's store (<paramref name="store"/>).</summary>
    public static ModelLibraryException ExternalStore(string modelId, string store, string path, string action) => new(
        ErrorIds.ExternalStore,
        $"'{modelId}' lives in {store}'s store ('{path}'); ModelLibrary does not {action} it.",
        Details(("model_id", modelId), ("store", store), ("path", path)),
        new[] { $"Use {store}'s own commands to change it." },
        modelId);

    // ---- Other tools' stores (Export-LibraryModel, store sources) ---------------------------------------------------

    /// <summary>
    /// InvalidModelFile for a model the tool <paramref name="to"/> cannot take as it is (a safetensors model for Ollama, a
    /// split GGUF): <paramref name="why"/>, and <paramref name="steps"/> say what to do instead. Nothing was written.
    /// </summary>
    public static ValidationException NotExportable(ModelInfo model, string to, string why, params string[] steps) => new(
        ErrorIds.InvalidModelFile, why + " Nothing was exported.", model.Id,
        Details(("model_id", model.Id), ("to", to), ("format", model.Format), ("path", model.LocalPath)),
        steps);

    /// <summary>ModelExists for a name another tool (<paramref name="tool"/>) already gives a different model, at <paramref name="path"/>.</summary>
    public static ModelLibraryException ModelExists(string modelId, string tool, string name, string path) => new(
        ErrorIds.ModelExists,
        $"{tool} already has a model named '{name}' ('{path}'); it was left as it is.",
        Details(("model_id", modelId), ("name", name), ("path", path)),
        new[] { "Give another -Name, or -Force to replace it." },
        modelId);

    /// <summary>InvalidModelId for a name given to another tool (<paramref name="rule"/> says what that tool takes).</summary>
    public static ModelLibraryException InvalidModelId(string name, object? target, string rule, string step) => new(
        ErrorIds.InvalidModelId,
        $"'{ModelNames.Echo(name)}' is not {rule}.",
        Details(("name", name)),
        new[] { step },
        target);

    /// <summary>ModelSourceUnavailable for another tool's store whose folder is gone or cannot be read.</summary>
    public static ModelLibraryException StoreUnavailable(string name, string tool, string root, string why, Exception? inner = null) => new(
        ErrorIds.ModelSourceUnavailable,
        $"Model source '{name}' ({tool}) is unavailable: {why}.",
        Details(("source", name), ("path", root)),
        new[] { $"Check that '{root}' exists and can be read by this user.", $"Register the store's folder with Register-ModelSource -Name {name} -Type <type> -Uri <folder> -Force, or remove it with Unregister-ModelSource -Name {name}." },
        name, inner);

    /// <summary>An exception the library did not raise on purpose (a defect), reported for the one input it happened on.</summary>
    public static ModelLibraryException UnexpectedError(Exception inner, object? target) => new(
        ErrorIds.UnexpectedError,
        $"An unexpected error occurred: {inner.GetType().Name}: {inner.Message}",
        Details(("exception_type", inner.GetType().FullName)),
        new[] { "This is a defect in ModelLibrary; please report it with the output of: $Error[0] | Format-List * -Force" },
        target, inner);

    static string[] With(string[] steps, string? last) => last is null ? steps : steps.Append(last).ToArray();

    /// <summary>A change the library refuses because the model's files lie in another tool's store (<see cref="ModelInfo.ExternalStore"/>).</summary>
    public static ModelLibraryException ExternalStore(ModelInfo model, string action) => new(
        ErrorIds.ExternalStore,
        $"Cannot {action} '{model.Id}': its files belong to {model.ExternalStore} ('{model.LocalPath}'), which the library reads in place but never changes.",
        Details(("model_id", model.Id), ("store", model.ExternalStore), ("source", model.Source), ("path", model.LocalPath)),
        new[] { $"Use {model.ExternalStore}'s own command to change or delete it (for Ollama: ollama rm; for the Hugging Face cache: hf cache delete).", $"To stop listing the store, run Unregister-ModelSource -Name {model.Source}." },
        model.Id);
}
