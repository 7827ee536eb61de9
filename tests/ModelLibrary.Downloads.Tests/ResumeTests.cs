using System.Security.Cryptography;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Point 3: dropped connections, pause, a killed process, cancel, servers that ignore ranges, changed files.</summary>
public sealed class ResumeTests
{
    [Fact]
    public async Task Dropped_connection_resumes_from_the_bytes_on_disk()
    {
        await using var lib = await CreateAsync(connections: 1);
        var model = lib.GenModel("dropped", 4 * MiB, query: $"dropAfter={3 * MiB / 2}&times=2");

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        var stats = lib.PathStats(model);
        Assert.True(stats.BytesServed < 1.2 * model.Size, $"served {stats.BytesServed} bytes for {model.Size}");
        Assert.True(stats.RangeRequests >= 2, "resumed with Range requests");
    }

    [Fact]
    public async Task Dropped_connections_in_parallel_parts_resume_each_part()
    {
        await using var lib = await CreateAsync(connections: 4);
        // Every part's first response drops half way: all parts resume.
        var model = lib.GenModel("dropped-split", 6 * MiB, query: $"dropAfter={MiB / 2}&times=6");

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        // An aborted connection loses what was still in flight, so some bytes come twice; a part that started
        // over from its beginning would push this towards 1.5x.
        var stats = lib.PathStats(model);
        Assert.True(stats.BytesServed < 1.4 * model.Size!.Value, $"served {stats.BytesServed} bytes for {model.Size}");
        Assert.True(stats.RangeRequests > 6, "the dropped parts were resumed with ranges of their own");
    }

    [Fact]
    public async Task Pause_then_resume_continues_where_it_stopped()
    {
        await using var lib = await CreateAsync(connections: 2);
        var manager = lib.NewManager();
        var model = lib.GenModel("paused", 4 * MiB, query: "rate=2097152");

        var started = await manager.StartAsync(model);
        await WaitUntilAsync(() => manager.GetTaskAsync(started.TaskId).Result.DownloadedSize > MiB, what: "1 MiB");
        var paused = await manager.SuspendAsync(started.TaskId);

        Assert.Equal(DownloadStatus.Paused, paused.Status);
        Assert.Equal(DownloadStatus.Paused, (await lib.Store.GetAsync(started.TaskId, default))!.Status);
        Assert.Equal(ModelStatus.Available, lib.Store.GetModel(model.Id)!.Status);
        var state = ResumeState.Load(lib.Staging(model.Id).State)!;
        Assert.Equal(paused.DownloadedSize, state.DownloadedBytes);
        Assert.True(state.DownloadedBytes > MiB);
        var servedBeforeResume = lib.PathStats(model).BytesServed;

        var resumed = await manager.ResumeAsync(started.TaskId);
        Assert.Equal(started.TaskId, resumed.TaskId);
        var done = await manager.WaitAsync(started.TaskId);

        Assert.Equal(DownloadStatus.Completed, done.Status);
        Assert.Equal(model.Checksum, Sha256Of(done.LocalPath!));
        // Slack: a chunk per connection the server may still count while it notices the pause.
        Assert.True(lib.PathStats(model).BytesServed - servedBeforeResume <= model.Size - state.DownloadedBytes + 512 * KiB,
            "the resumed run fetched only what was missing");
        Assert.True(lib.PathStats(model).BytesServed < 1.2 * model.Size!.Value);
    }

    [Fact]
    public async Task After_the_process_is_killed_another_one_resumes_from_the_saved_state()
    {
        await using var lib = await CreateAsync(connections: 2);
        var first = lib.NewManager();
        var model = lib.GenModel("killed", 4 * MiB, query: "rate=2097152");
        var started = await first.StartAsync(model);
        await WaitUntilAsync(() => (ResumeState.Load(lib.Staging(model.Id).State)?.DownloadedBytes ?? 0) > MiB, what: "saved progress");

        await first.SimulateCrashAsync();
        var stale = await lib.Store.GetAsync(started.TaskId, default);
        Assert.Equal(DownloadStatus.Downloading, stale!.Status); // nobody told the store

        // A new process: only the store and the files in downloads/ survive. No ModelInfo is passed.
        var second = lib.NewManager();
        var resumed = await second.ResumeAsync(started.TaskId);
        Assert.Equal(started.TaskId, resumed.TaskId);
        var done = await second.WaitAsync(started.TaskId);

        Assert.Equal(DownloadStatus.Completed, done.Status);
        Assert.Equal(model.Checksum, Sha256Of(done.LocalPath!));
        Assert.True(lib.PathStats(model).BytesServed < 1.2 * model.Size!.Value, $"served {lib.PathStats(model).BytesServed}");
    }

    [Fact]
    public async Task Waiting_on_a_task_whose_process_died_reports_it_paused()
    {
        await using var lib = await CreateAsync();
        var first = lib.NewManager();
        var model = lib.GenModel("orphan", 4 * MiB, query: "rate=2097152");
        var started = await first.StartAsync(model);
        await WaitUntilAsync(() => first.GetTaskAsync(started.TaskId).Result.DownloadedSize > 0, what: "bytes");
        await first.SimulateCrashAsync();

        var task = await lib.NewManager().WaitAsync(started.TaskId);

        Assert.Equal(DownloadStatus.Paused, task.Status);
    }

    [Fact]
    public async Task Cancel_deletes_the_partial_and_makes_the_model_available()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel("cancelled", 4 * MiB, query: "rate=2097152");
        var started = await manager.StartAsync(model);
        await WaitUntilAsync(() => File.Exists(lib.Staging(model.Id).State) && manager.GetTaskAsync(started.TaskId).Result.DownloadedSize > 0, what: "bytes");

        var cancelled = await manager.CancelAsync(started.TaskId);

        Assert.Equal(DownloadStatus.Cancelled, cancelled.Status);
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
        Assert.False(File.Exists(lib.Staging(model.Id).State));
        Assert.False(File.Exists(lib.TargetPath(model)));
        Assert.Equal(ModelStatus.Available, lib.Store.GetModel(model.Id)!.Status);
        Assert.Equal(DownloadStatus.Cancelled, (await manager.WaitAsync(started.TaskId)).Status);
        await Assert.ThrowsAsync<ModelLibraryException>(() => manager.ResumeAsync(started.TaskId));
    }

    [Fact]
    public async Task Cancel_of_a_paused_task_deletes_its_bytes()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel("paused-then-cancelled", 4 * MiB, query: "rate=2097152");
        var started = await manager.StartAsync(model);
        await WaitUntilAsync(() => manager.GetTaskAsync(started.TaskId).Result.DownloadedSize > 0, what: "bytes");
        await manager.SuspendAsync(started.TaskId);
        Assert.True(File.Exists(lib.Staging(model.Id).Partial));

        var cancelled = await manager.CancelAsync(started.TaskId);

        Assert.Equal(DownloadStatus.Cancelled, cancelled.Status);
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
    }

    [Fact]
    public async Task Range_answered_with_200_does_not_corrupt_the_file()
    {
        await using var lib = await CreateAsync(connections: 4);
        // Advertises ranges, then answers every Range with the whole file.
        var model = lib.GenModel("ignores-range", 5 * MiB, query: "ignoreRange=1");

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
    }

    [Fact]
    public async Task Resume_against_a_server_that_ignores_ranges_starts_over_cleanly()
    {
        await using var lib = await CreateAsync(connections: 1);
        var model = lib.GenModel("ignores-range-resume", 3 * MiB, query: $"ignoreRange=1&dropAfter={MiB}&times=1");

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
    }

    [Fact]
    public async Task A_file_changed_on_the_server_while_paused_is_downloaded_again_from_zero()
    {
        var content = Directory.CreateTempSubdirectory("ml-content-");
        try
        {
            var path = Path.Combine(content.FullName, "changing.gguf");
            await File.WriteAllBytesAsync(path, RandomBytes(3 * (int)MiB, seed: 1));
            await using var lib = await CreateAsync(content.FullName, connections: 2);
            var manager = lib.NewManager();
            var model = new ModelInfo
            {
                Id = "changing",
                Provider = "llama-cpp",
                DownloadUrl = lib.Server.FileUrl("changing.gguf", "rate=2097152").ToString(),
                FileName = "changing.gguf",
            };
            var started = await manager.StartAsync(model);
            await WaitUntilAsync(() => manager.GetTaskAsync(started.TaskId).Result.DownloadedSize > MiB / 2, what: "bytes");
            await manager.SuspendAsync(started.TaskId);

            // Same size, new content, new mtime: a new ETag.
            var newBytes = RandomBytes(3 * (int)MiB, seed: 2);
            Replace(path, newBytes);
            model.Checksum = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(newBytes));

            await manager.ResumeAsync(started.TaskId, model);
            var done = await manager.WaitAsync(started.TaskId);

            Assert.Equal(model.Checksum, Sha256Of(done.LocalPath!));
        }
        finally
        {
            content.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_changed_ETag_during_the_transfer_restarts_from_zero()
    {
        var content = Directory.CreateTempSubdirectory("ml-content-");
        try
        {
            var path = Path.Combine(content.FullName, "swapped.gguf");
            await File.WriteAllBytesAsync(path, RandomBytes(3 * (int)MiB, seed: 3));
            await using var lib = await CreateAsync(content.FullName, connections: 1);
            var newBytes = RandomBytes(3 * (int)MiB, seed: 4);
            var model = new ModelInfo
            {
                Id = "swapped",
                Provider = "llama-cpp",
                // The first response stalls after 1 MiB; the file is replaced before the engine reconnects.
                DownloadUrl = lib.Server.FileUrl("swapped.gguf", $"stallAfter={MiB}&stallMs=5000&times=1").ToString(),
                FileName = "swapped.gguf",
                Checksum = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(newBytes)),
            };
            var manager = lib.NewManager(FastOptions with { StallTimeout = TimeSpan.FromMilliseconds(800) });
            var started = await manager.StartAsync(model);
            await WaitUntilAsync(() => lib.Server.Stats.BytesServed >= MiB, what: "the first MiB");
            Replace(path, newBytes);

            var done = await manager.WaitAsync(started.TaskId);

            Assert.Equal(model.Checksum, Sha256Of(done.LocalPath!));
        }
        finally
        {
            content.Delete(recursive: true);
        }
    }

    /// <summary>Replaces a file the way a server deploys one: a new file renamed over the old (new ETag).</summary>
    static void Replace(string path, byte[] bytes)
    {
        var temp = path + ".new";
        File.WriteAllBytes(temp, bytes);
        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow.AddMinutes(1));
        File.Move(temp, path, overwrite: true);
    }

    static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
