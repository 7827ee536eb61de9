using System.Collections.Concurrent;

namespace ModelLibrary.Downloads;

/// <summary>
/// Keeps tasks and model states in memory. For tests and tools; the module uses the SQLite registry.
/// </summary>
public sealed class InMemoryDownloadStore : IDownloadTaskStore, IModelStateSink
{
    readonly ConcurrentDictionary<string, DownloadTask> tasks = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, ModelState> models = new(StringComparer.Ordinal);
    long sequence;
    readonly ConcurrentDictionary<string, long> order = new(StringComparer.Ordinal);

    /// <summary>How many times a task row was written; tests check that progress is not written per buffer.</summary>
    public int TaskWrites => Volatile.Read(ref taskWrites);
    int taskWrites;

    public Task InsertAsync(DownloadTask task, CancellationToken cancellationToken)
    {
        if (!tasks.TryAdd(task.TaskId, task.Clone()))
        {
            throw new InvalidOperationException($"Task '{task.TaskId}' already exists.");
        }

        order[task.TaskId] = Interlocked.Increment(ref sequence);
        Interlocked.Increment(ref taskWrites);
        return Task.CompletedTask;
    }

    public Task UpdateAsync(DownloadTask task, CancellationToken cancellationToken)
    {
        if (!tasks.ContainsKey(task.TaskId))
        {
            throw new InvalidOperationException($"Task '{task.TaskId}' does not exist.");
        }

        tasks[task.TaskId] = task.Clone();
        Interlocked.Increment(ref taskWrites);
        return Task.CompletedTask;
    }

    public Task<DownloadTask?> GetAsync(string taskId, CancellationToken cancellationToken) =>
        Task.FromResult(tasks.TryGetValue(taskId, out var task) ? task.Clone() : null);

    public Task<IReadOnlyList<DownloadTask>> ListAsync(string? modelId, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DownloadTask>>(tasks.Values
            .Where(t => modelId is null || t.ModelId == modelId)
            .OrderByDescending(t => order.GetValueOrDefault(t.TaskId))
            .Select(t => t.Clone())
            .ToList());

    /// <summary>The last state the engine reported for a model, or null.</summary>
    public ModelState? GetModel(string modelId) => models.TryGetValue(modelId, out var state) ? state : null;

    public Task MarkDownloadingAsync(ModelInfo model, CancellationToken cancellationToken)
    {
        models[model.Id] = new ModelState(ModelStatus.Downloading, null, null);
        return Task.CompletedTask;
    }

    public Task MarkLocalAsync(ModelInfo model, LocalModelFile file, CancellationToken cancellationToken)
    {
        models[model.Id] = new ModelState(ModelStatus.Local, file, null);
        return Task.CompletedTask;
    }

    public Task MarkAvailableAsync(string modelId, CancellationToken cancellationToken)
    {
        models[modelId] = new ModelState(ModelStatus.Available, null, null);
        return Task.CompletedTask;
    }

    public Task MarkErrorAsync(ModelInfo model, string message, CancellationToken cancellationToken)
    {
        models[model.Id] = new ModelState(ModelStatus.Error, null, message);
        return Task.CompletedTask;
    }

    /// <summary>A model's state as the engine last reported it.</summary>
    public sealed record ModelState(ModelStatus Status, LocalModelFile? File, string? Message);
}
