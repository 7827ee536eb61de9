using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>
/// Each status a task can take sets and clears the same fields, whichever path leads there (issue 10 part 3), and
/// a task whose process died reads as Paused from any session at once (issue 9 items 5 and 19).
/// </summary>
public sealed class TaskTransitionTests
{
    const string Partial = "/lib/downloads/m.partial";

    /// <summary>A task with every field set, as a task that failed mid-transfer would carry them.</summary>
    static DownloadTask Dirty() => new()
    {
        TaskId = "t1",
        ModelId = "m",
        Url = "http://127.0.0.1/old",
        FileName = "old.gguf",
        TotalSize = 100,
        DownloadedSize = 40,
        Progress = 0.4,
        Status = DownloadStatus.Failed,
        ErrorId = ErrorIds.NetworkFailure,
        ErrorMessage = "boom",
        StartTime = DateTimeOffset.UtcNow.AddMinutes(-5),
        EndTime = DateTimeOffset.UtcNow.AddMinutes(-1),
        BytesPerSecond = 1234,
        EstimatedTimeRemaining = 56,
        LocalPath = "/somewhere/else",
        UpdatedAt = DateTimeOffset.UtcNow.AddMinutes(-1),
    };

    static void AssertUnfinished(DownloadTask t, DownloadStatus status)
    {
        Assert.Equal(status, t.Status);
        Assert.Null(t.ErrorId);
        Assert.Null(t.ErrorMessage);
        Assert.Null(t.EndTime);
        Assert.Equal(Partial, t.LocalPath);
        Assert.True(t.UpdatedAt > DateTimeOffset.UtcNow.AddSeconds(-30));
    }

    [Fact]
    public void Pending_takes_the_request_and_clears_the_failure()
    {
        var t = Dirty();
        var request = new DownloadRequest { ModelId = "m", Url = new Uri("http://127.0.0.1/new"), FileName = "new.gguf", Provider = "llama-cpp" };
        TaskTransitions.ToPending(t, request, Partial);
        AssertUnfinished(t, DownloadStatus.Pending);
        Assert.Equal("http://127.0.0.1/new", t.Url);
        Assert.Equal("new.gguf", t.FileName);
        Assert.Null(t.BytesPerSecond);
        Assert.Null(t.EstimatedTimeRemaining);
        Assert.Equal(40, t.DownloadedSize); // continued from the bytes on disk
    }

    [Fact]
    public void Downloading_keeps_the_first_start_time()
    {
        var t = Dirty();
        var started = t.StartTime;
        TaskTransitions.ToDownloading(t, Partial);
        AssertUnfinished(t, DownloadStatus.Downloading);
        Assert.Equal(started, t.StartTime);
        Assert.Null(t.BytesPerSecond);

        var fresh = new DownloadTask();
        TaskTransitions.ToDownloading(fresh, Partial);
        Assert.NotNull(fresh.StartTime);
    }

    [Fact]
    public void Paused_keeps_progress_and_drops_rate_and_time_left()
    {
        var t = Dirty();
        TaskTransitions.ToPaused(t, Partial);
        AssertUnfinished(t, DownloadStatus.Paused);
        Assert.Equal(40, t.DownloadedSize);
        Assert.Equal(0.4, t.Progress);
        Assert.Null(t.BytesPerSecond);
        Assert.Null(t.EstimatedTimeRemaining);
    }

    [Fact]
    public void Verifying_has_every_byte()
    {
        var t = Dirty();
        TaskTransitions.ToVerifying(t, 120, Partial);
        AssertUnfinished(t, DownloadStatus.Verifying);
        Assert.Equal(120, t.TotalSize);
        Assert.Equal(120, t.DownloadedSize);
        Assert.Equal(1, t.Progress);
        Assert.Equal(0, t.EstimatedTimeRemaining);
    }

    [Fact]
    public void Completed_points_at_the_file_in_its_provider_folder()
    {
        var t = Dirty();
        TaskTransitions.ToCompleted(t, "/lib/llama-cpp/m/m.gguf", "sha256:ab");
        Assert.Equal(DownloadStatus.Completed, t.Status);
        Assert.Null(t.ErrorId);
        Assert.Null(t.ErrorMessage);
        Assert.NotNull(t.EndTime);
        Assert.Equal("/lib/llama-cpp/m/m.gguf", t.LocalPath);
        Assert.Equal("sha256:ab", t.Checksum);
        Assert.Equal(1, t.Progress);
        Assert.Equal(t.TotalSize, t.DownloadedSize);
        Assert.Null(t.BytesPerSecond);
    }

    [Fact]
    public void Failed_says_why_and_keeps_the_partial_for_resume()
    {
        var t = Dirty();
        t.Status = DownloadStatus.Downloading;
        t.EndTime = null;
        TaskTransitions.ToFailed(t, ErrorIds.ChecksumMismatch, "bad hash", Partial);
        Assert.Equal(DownloadStatus.Failed, t.Status);
        Assert.Equal(ErrorIds.ChecksumMismatch, t.ErrorId);
        Assert.Equal("bad hash", t.ErrorMessage);
        Assert.NotNull(t.EndTime);
        Assert.Equal(Partial, t.LocalPath);
        Assert.Null(t.BytesPerSecond);
        Assert.Null(t.EstimatedTimeRemaining);
    }

    [Fact]
    public void Cancelled_has_no_bytes_and_no_path()
    {
        var t = Dirty();
        TaskTransitions.ToCancelled(t);
        Assert.Equal(DownloadStatus.Cancelled, t.Status);
        Assert.Null(t.ErrorId);
        Assert.NotNull(t.EndTime);
        Assert.Null(t.LocalPath);
        Assert.Equal(0, t.DownloadedSize);
        Assert.Equal(0, t.Progress);
        Assert.Null(t.BytesPerSecond);
        Assert.Null(t.EstimatedTimeRemaining);
    }

    [Fact]
    public async Task A_cancelled_task_is_recorded_the_same_way_whether_it_ran_here_or_was_paused()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var running = lib.GenModel("cancel-running", 4 * MiB, query: "rate=2097152");
        var paused = lib.GenModel("cancel-paused", 4 * MiB, query: "rate=2097152");
        var a = await manager.StartAsync(running);
        var b = await manager.StartAsync(paused);
        await WaitUntilAsync(() => manager.GetTaskAsync(a.TaskId).Result.DownloadedSize > 0 && manager.GetTaskAsync(b.TaskId).Result.DownloadedSize > 0, what: "bytes");
        await manager.SuspendAsync(b.TaskId);

        await manager.CancelAsync(a.TaskId); // runs in this manager
        await manager.CancelAsync(b.TaskId); // only a row and a partial

        foreach (var id in new[] { a.TaskId, b.TaskId })
        {
            var stored = (await lib.Store.GetAsync(id, default))!;
            Assert.Equal(DownloadStatus.Cancelled, stored.Status);
            Assert.Null(stored.LocalPath); // issue 9 item 19: it pointed at the deleted partial
            Assert.Equal(0, stored.DownloadedSize);
            Assert.Equal(0, stored.Progress);
            Assert.NotNull(stored.EndTime);
        }
    }

    [Fact]
    public async Task A_task_whose_process_died_lists_as_paused_from_a_new_session_and_its_model_is_available()
    {
        await using var lib = await CreateAsync();
        var first = lib.NewManager();
        var model = lib.GenModel("orphan-listed", 4 * MiB, query: "rate=2097152");
        var started = await first.StartAsync(model);
        await WaitUntilAsync(() => first.GetTaskAsync(started.TaskId).Result.DownloadedSize > 0, what: "bytes");
        await first.SimulateCrashAsync();
        Assert.Equal(DownloadStatus.Downloading, (await lib.Store.GetAsync(started.TaskId, default))!.Status);

        var second = lib.NewManager();
        var listed = Assert.Single(await second.GetTasksAsync());

        Assert.Equal(DownloadStatus.Paused, listed.Status);
        Assert.Null(listed.BytesPerSecond);
        Assert.Null(listed.EstimatedTimeRemaining);
        // Recorded, so every other session agrees at once; the model is no longer Downloading.
        Assert.Equal(DownloadStatus.Paused, (await lib.Store.GetAsync(started.TaskId, default))!.Status);
        Assert.Equal(ModelStatus.Available, lib.Store.GetModel(model.Id)!.Status);
        Assert.Equal(DownloadStatus.Paused, (await lib.NewManager().GetTaskAsync(started.TaskId)).Status);
    }

    [Fact]
    public async Task A_task_running_in_another_manager_is_not_taken_for_an_orphan()
    {
        await using var lib = await CreateAsync();
        var owner = lib.NewManager();
        var model = lib.GenModel("alive-elsewhere", 4 * MiB, query: "rate=2097152");
        var started = await owner.StartAsync(model);
        await WaitUntilAsync(() => owner.GetTaskAsync(started.TaskId).Result.DownloadedSize > 0, what: "bytes");

        var listed = Assert.Single(await lib.NewManager().GetTasksAsync());

        Assert.Equal(DownloadStatus.Downloading, listed.Status);
        await owner.CancelAsync(started.TaskId);
    }
}
