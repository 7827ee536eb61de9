using System.Collections.Concurrent;
using ModelLibrary.Downloads;

namespace ModelLibrary.Registry;

/// <summary>
/// The download engine's persistence over <c>registry.db</c>: tasks in <c>download_tasks</c>, model states in
/// <c>model_registry</c>. Rows for a model that has none yet are seeded from what the library knows of it
/// (<see cref="Describe"/>), so a finished download is registered with its catalog facts.
/// </summary>
public sealed class RegistryDownloadStore : IDownloadTaskStore, IModelStateSink
{
    readonly TaskStore tasks;
    readonly ModelStore models;
    readonly ConcurrentDictionary<string, ModelInfo> known = new(StringComparer.OrdinalIgnoreCase);

    public RegistryDownloadStore(TaskStore tasks, ModelStore models)
    {
        this.tasks = tasks;
        this.models = models;
    }

    /// <summary>Tells the store what a model is before its download starts (its catalog entry).</summary>
    public void Describe(ModelInfo model) => known[model.Id] = model.Clone();

    public Task InsertAsync(DownloadTask task, CancellationToken cancellationToken) => UpsertAsync(task);

    public Task UpdateAsync(DownloadTask task, CancellationToken cancellationToken) => UpsertAsync(task);

    public Task<DownloadTask?> GetAsync(string taskId, CancellationToken cancellationToken) => Task.Run(() => tasks.Get(taskId), cancellationToken);

    public Task<IReadOnlyList<DownloadTask>> ListAsync(string? modelId, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var list = modelId is null ? tasks.List() : tasks.ForModel(modelId);
        // Newest first, as the engine expects.
        return (IReadOnlyList<DownloadTask>)list.Reverse().ToList();
    }, cancellationToken);

    public Task MarkDownloadingAsync(string modelId, CancellationToken cancellationToken) => Change(modelId, row =>
    {
        row.Status = ModelStatus.Downloading;
        row.StatusMessage = null;
    });

    public Task MarkLocalAsync(string modelId, LocalModelFile file, CancellationToken cancellationToken) => Change(modelId, row =>
    {
        row.Status = ModelStatus.Local;
        row.LocalPath = file.LocalPath;
        row.DiskUsage = file.DiskUsage;
        row.DownloadDate = file.DownloadDate;
        row.StatusMessage = null;
        // The computed checksum is recorded when no source knew one; a known one was just verified equal.
        row.Checksum ??= file.Checksum;
    });

    public Task MarkAvailableAsync(string modelId, CancellationToken cancellationToken) => Change(modelId, row =>
    {
        // A pause or cancel leaves whatever was local before (a -Force re-download) in place.
        var stillLocal = row.LocalPath is not null && File.Exists(row.LocalPath);
        row.Status = stillLocal ? ModelStatus.Local : ModelStatus.Available;
        row.StatusMessage = null;
    });

    public Task MarkErrorAsync(string modelId, string message, CancellationToken cancellationToken) => Change(modelId, row =>
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

    Task Change(string modelId, Action<ModelInfo> change)
    {
        models.Update(modelId, () => Seed(modelId), change);
        return Task.CompletedTask;
    }

    ModelInfo Seed(string modelId) => known.TryGetValue(modelId, out var model)
        ? model.Clone()
        : new ModelInfo { Id = modelId, Name = modelId, Provider = "unknown" };
}
