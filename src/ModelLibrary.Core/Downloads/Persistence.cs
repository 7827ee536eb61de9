namespace ModelLibrary.Downloads;

/// <summary>
/// Where download tasks are kept so that other sessions (and this one after a restart) can see and resume them.
/// The registry implements this over the <c>download_tasks</c> table; <see cref="InMemoryDownloadStore"/> is
/// the stand-in for tests.
/// </summary>
/// <remarks>
/// The engine writes a task when it is created, on every status change, and about once a second while bytes
/// flow. Implementations must store a copy (the engine keeps mutating its own instance) and be safe to call
/// from several threads.
/// </remarks>
public interface IDownloadTaskStore
{
    Task InsertAsync(DownloadTask task, CancellationToken cancellationToken);

    /// <summary>Replaces the row with the same <see cref="DownloadTask.TaskId"/>.</summary>
    Task UpdateAsync(DownloadTask task, CancellationToken cancellationToken);

    Task<DownloadTask?> GetAsync(string taskId, CancellationToken cancellationToken);

    /// <summary>Tasks of one model, newest first; all tasks when <paramref name="modelId"/> is null.</summary>
    Task<IReadOnlyList<DownloadTask>> ListAsync(string? modelId, CancellationToken cancellationToken);
}

/// <summary>
/// How the engine tells the model registry what happened to a model (the <c>model_registry</c> row's status).
/// The engine hands over the model it downloads, so a store that has no row for it yet creates one with the
/// model's facts (catalog entry, Hub repository, revision).
/// </summary>
public interface IModelStateSink
{
    /// <summary>Status Downloading (the progress is the task's; the library derives the model's from it).</summary>
    Task MarkDownloadingAsync(ModelInfo model, CancellationToken cancellationToken);

    /// <summary>Status Local: the verified file is in place.</summary>
    Task MarkLocalAsync(ModelInfo model, LocalModelFile file, CancellationToken cancellationToken);

    /// <summary>Status Available: paused, cancelled, or never downloaded; DownloadProgress cleared.</summary>
    Task MarkAvailableAsync(string modelId, CancellationToken cancellationToken);

    /// <summary>Status Error with the reason (the failure's message).</summary>
    Task MarkErrorAsync(ModelInfo model, string message, CancellationToken cancellationToken);
}

/// <summary>What a finished download leaves behind, for the model's registry row.</summary>
/// <param name="LocalPath">Full path of the model file in its provider folder.</param>
/// <param name="DiskUsage">Bytes on disk.</param>
/// <param name="Checksum"><c>sha256:&lt;hex&gt;</c> computed from the bytes (equal to the catalog's when it had one); for a folder model, its entry file's when known, else null.</param>
/// <param name="DownloadDate">When the file landed.</param>
public sealed record LocalModelFile(string LocalPath, long DiskUsage, string? Checksum, DateTimeOffset DownloadDate);
