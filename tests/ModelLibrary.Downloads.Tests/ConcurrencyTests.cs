using System.Collections.Concurrent;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Point 7: the process-wide slot limit, shared downloads, and two processes on one model.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task No_more_than_MaxConcurrentDownloads_transfer_at_once_and_the_rest_wait_as_Pending()
    {
        await using var lib = await CreateAsync(connections: 4, maxConcurrent: 2);
        var manager = lib.NewManager();
        var statuses = new ConcurrentBag<DownloadStatus>();
        manager.TaskChanged += (_, t) => statuses.Add(t.Status);
        var models = Enumerable.Range(1, 4).Select(i => lib.GenModel($"queued-{i}", 512 * KiB, query: "rate=2097152")).ToList();

        var tasks = new List<DownloadTask>();
        foreach (var model in models)
        {
            tasks.Add(await manager.StartAsync(model));
        }

        Assert.Contains(tasks, t => t.Status == DownloadStatus.Pending);
        var finished = await Task.WhenAll(tasks.Select(t => manager.WaitAsync(t.TaskId)));

        Assert.All(finished, t => Assert.Equal(DownloadStatus.Completed, t.Status));
        Assert.Equal(2, lib.Server.Stats.MaxConcurrent);
        Assert.Contains(DownloadStatus.Pending, statuses);
    }

    [Fact]
    public async Task The_limit_can_change_while_downloads_wait()
    {
        var gate = new ConcurrencyGate(1);
        var first = await gate.EnterAsync(default);
        var second = gate.EnterAsync(default);
        Assert.False(second.IsCompleted);

        gate.Limit = 2;
        using (await second.WaitAsync(TimeSpan.FromSeconds(5)))
        {
            Assert.Equal(2, gate.Active);
        }

        first.Dispose();
        Assert.Equal(0, gate.Active);

        // A waiter that gives up leaves the line without taking a slot.
        using var held = await gate.EnterAsync(default);
        using var held2 = await gate.EnterAsync(default);
        using var cancel = new CancellationTokenSource();
        var waiting = gate.EnterAsync(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(2, gate.Active);
    }

    [Fact]
    public async Task Two_requests_for_one_model_share_one_download()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel("shared", 2 * MiB, query: "rate=4194304");

        var first = await manager.StartAsync(model);
        var second = await manager.StartAsync(model.Clone());
        await Task.WhenAll(manager.WaitAsync(first.TaskId), manager.WaitAsync(second.TaskId));

        Assert.Equal(first.TaskId, second.TaskId);
        Assert.Single(await manager.GetTasksAsync(model.Id));
        Assert.True(lib.PathStats(model).BytesServed <= model.Size);
    }

    [Fact]
    public async Task Two_processes_never_write_into_one_partial_file()
    {
        await using var lib = await CreateAsync();
        // Two managers with their own stores and sinks stand for two processes on one library root.
        var processA = lib.NewManager();
        var processB = lib.NewManager(store: lib.Store, sink: new InMemoryDownloadStore());
        var model = lib.GenModel("contended", 3 * MiB, query: "rate=4194304");

        var taskA = await processA.StartAsync(model);
        var refused = await Assert.ThrowsAsync<ModelLibraryException>(() => processB.StartAsync(model));
        Assert.Equal(ErrorIds.DownloadInProgress, refused.ErrorId);

        // The other process can follow the task through the shared store.
        var seenByB = await processB.WaitAsync(taskA.TaskId);
        Assert.Equal(DownloadStatus.Completed, seenByB.Status);
        Assert.Equal(model.Checksum, Sha256Of(lib.TargetPath(model)));
        Assert.True(lib.PathStats(model).BytesServed <= model.Size);

        // Once A is done the lock is free: B may download it again.
        var again = await processB.DownloadAsync(model);
        Assert.Equal(DownloadStatus.Completed, again.Status);
    }

    [Fact]
    public async Task Cancelling_the_wait_of_a_foreground_download_pauses_it()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel("ctrl-c", 2 * MiB, query: "rate=1048576");
        using var ctrlC = new CancellationTokenSource(TimeSpan.FromMilliseconds(400));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.DownloadAsync(model, cancellationToken: ctrlC.Token));

        var task = (await manager.GetTasksAsync(model.Id)).Single();
        Assert.Equal(DownloadStatus.Paused, task.Status);
        var resumed = await manager.ResumeAsync(task.TaskId);
        Assert.Equal(DownloadStatus.Completed, (await manager.WaitAsync(resumed.TaskId)).Status);
    }

    [Fact]
    public async Task Another_process_pauses_and_cancels_a_download_through_a_stop_request()
    {
        await using var lib = await CreateAsync();
        var owner = lib.NewManager();
        var other = lib.NewManager();
        var model = lib.GenModel("remote-stop", 4 * MiB, query: "rate=524288");
        var task = await owner.StartAsync(model);
        await WaitUntilAsync(() => (owner.GetTaskAsync(task.TaskId).Result.DownloadedSize) > 0, what: "first bytes");

        // 'other' does not run the task (the lock is held): it asks the owner, who pauses at its next persist tick.
        var paused = await other.SuspendAsync(task.TaskId);
        Assert.Equal(DownloadStatus.Paused, paused.Status);
        Assert.Equal(DownloadStatus.Paused, (await owner.WaitAsync(task.TaskId)).Status);
        Assert.True(File.Exists(lib.Staging(model.Id).Partial));

        await owner.ResumeAsync(task.TaskId, model);
        await WaitUntilAsync(() => owner.GetTaskAsync(task.TaskId).Result.Status == DownloadStatus.Downloading, what: "resumed");
        var cancelled = await other.CancelAsync(task.TaskId);
        Assert.Equal(DownloadStatus.Cancelled, cancelled.Status);
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
        Assert.False(File.Exists(lib.Staging(model.Id).Request));
    }

    [Fact]
    public async Task Another_process_pauses_and_cancels_a_download_still_waiting_for_a_slot()
    {
        await using var lib = await CreateAsync(connections: 1, maxConcurrent: 1);
        // Answers within a second or two, or the asker gives up: long before the busy slot frees.
        var owner = lib.NewManager(FastOptions with { OwnerAnswerTimeout = TimeSpan.FromSeconds(5) });
        var other = lib.NewManager(FastOptions with { OwnerAnswerTimeout = TimeSpan.FromSeconds(5) });
        var busy = await owner.StartAsync(lib.GenModel("slot-holder", 4 * MiB, query: "rate=262144"));
        await WaitUntilAsync(() => owner.GetTaskAsync(busy.TaskId).Result.Status == DownloadStatus.Downloading, what: "the first download to take the slot");
        var waitingModel = lib.GenModel("waiting", 256 * KiB);
        var waiting = await owner.StartAsync(waitingModel);
        Assert.Equal(DownloadStatus.Pending, waiting.Status);

        var paused = await other.SuspendAsync(waiting.TaskId);

        Assert.Equal(DownloadStatus.Paused, paused.Status);
        Assert.Equal(DownloadStatus.Paused, (await owner.WaitAsync(waiting.TaskId)).Status);
        Assert.Equal(DownloadStatus.Downloading, (await owner.GetTaskAsync(busy.TaskId)).Status);

        // Resumed, it waits for the slot again; a cancel from the other process reaches it there too.
        Assert.Equal(DownloadStatus.Pending, (await owner.ResumeAsync(waiting.TaskId, waitingModel)).Status);
        var cancelled = await other.CancelAsync(waiting.TaskId);

        Assert.Equal(DownloadStatus.Cancelled, cancelled.Status);
        Assert.Equal(DownloadStatus.Cancelled, (await owner.WaitAsync(waiting.TaskId)).Status);
        Assert.False(File.Exists(lib.Staging(waitingModel.Id).Request));
        Assert.Equal(0, lib.PathStats(waitingModel).BytesServed);
        await owner.CancelAsync(busy.TaskId);
    }
}
