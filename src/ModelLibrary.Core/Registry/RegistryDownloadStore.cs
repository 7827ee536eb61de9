using ModelLibrary.Downloads;

namespace ModelLibrary.Registry;

/// <summary>
/// The download engine's persistence over <c>registry.db</c>: tasks in <c>download_tasks</c>, model states in
/// <c>model_registry</c>. A model that has no row yet gets one from the model the engine hands over (its catalog
/// entry, or what a Hub or registry reference resolved to), so a finished download is registered with its facts.
/// </summary>
public sealed class RegistryDownloadStore : IDownloadTaskStore, IModelStateSink
{
    readonly TaskStore tasks;
    readonly ModelStore models;

    public RegistryDownloadStore(TaskStore tasks, ModelStore models)
    {
        this.tasks = tasks;
        this.models = models;
    }

    public Task InsertAsync(DownloadTask task, CancellationToken cancellationToken) => UpsertAsync(task);

    public Task UpdateAsync(DownloadTask task, CancellationToken cancellationToken) => UpsertAsync(task);

    public Task<DownloadTask?> GetAsync(string taskId, CancellationToken cancellationToken) => Task.Run(() => tasks.Get(taskId), cancellationToken);

    public Task<IReadOnlyList<DownloadTask>> ListAsync(string? modelId, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var list = modelId is null ? tasks.List() : tasks.ForModel(modelId);
        // Newest first, as the engine expects.
        return (IReadOnlyList<DownloadTask>)list.Reverse().ToList();
    }, cancellationToken);

    public Task MarkDownloadingAsync(ModelInfo model, CancellationToken cancellationToken) => Change(model, row =>
    {
        row.Status = ModelStatus.Downloading;
        row.StatusMessage = null;
    });

    public Task MarkLocalAsync(ModelInfo model, LocalModelFile file, CancellationToken cancellationToken) => Change(model, row =>
    {
        row.Status = ModelStatus.Local;
        row.LocalPath = file.LocalPath;
        row.DiskUsage = file.DiskUsage;
        row.DownloadDate = file.DownloadDate;
        row.StatusMessage = null;
        // The computed checksum is recorded when no source knew one; a known one was just verified equal.
        row.Checksum ??= file.Checksum;
        // The commit or digest these bytes came from; a re-download of a moved branch records the new one.
        row.Revision = model.Revision ?? row.Revision;
        row.Size ??= model.Size;
    });

    public Task MarkAvailableAsync(string modelId, CancellationToken cancellationToken) => Change(modelId, null, row =>
    {
        // A pause or cancel leaves whatever was local before (a -Force re-download) in place.
        var stillLocal = row.LocalPath is not null && File.Exists(row.LocalPath);
        row.Status = stillLocal ? ModelStatus.Local : ModelStatus.Available;
        row.StatusMessage = null;
    });

    public Task MarkErrorAsync(ModelInfo model, string message, CancellationToken cancellationToken) => Change(model, row =>
    {
        row.Status = ModelStatus.Error;
        row.StatusMessage = message;
    });

    Task UpsertAsync(DownloadTask task)
    {
        var owner = task.IsFinished || task.Status == DownloadStatus.Paused ? (int?)null : Environment.ProcessId;
        tasks.Upsert(task.Clone(), owner);
        return Task.CompletedTask;
    }

    Task Change(ModelInfo model, Action<ModelInfo> change) => Change(model.Id, model, change);

    /// <summary>Changes the model's row; without a row, one is made from <paramref name="model"/> (none when it is null).</summary>
    Task Change(string modelId, ModelInfo? model, Action<ModelInfo> change)
    {
        if (model is null && models.Get(modelId) is null)
        {
            return Task.CompletedTask;
        }

        models.Update(modelId, () => Seed(model!), change);
        return Task.CompletedTask;
    }

    static ModelInfo Seed(ModelInfo model)
    {
        var row = model.Clone();
        // State is the engine's to set; what the caller's copy said (Available, a progress) is not a fact to keep.
        row.DownloadProgress = null;
        row.LocalPath = null;
        row.StatusMessage = null;
        return row;
    }
}
