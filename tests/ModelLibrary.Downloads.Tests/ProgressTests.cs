using System.Collections.Concurrent;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Live progress in memory, persisted only about once a second.</summary>
public sealed class ProgressTests
{
    [Fact]
    public async Task Progress_is_live_in_memory_and_persisted_at_the_persist_interval()
    {
        await using var lib = await CreateAsync(connections: 2);
        var manager = lib.NewManager(FastOptions with { PersistInterval = TimeSpan.FromMilliseconds(500) });
        var model = lib.GenModel("watched", 3 * MiB, query: "rate=2097152");
        var reports = new ConcurrentQueue<DownloadTask>();

        var writesBefore = lib.Store.TaskWrites;
        var task = await manager.DownloadAsync(model, new SyncProgress(reports.Enqueue));

        Assert.Equal(DownloadStatus.Completed, task.Status);
        var downloading = reports.Where(r => r.Status == DownloadStatus.Downloading).ToList();
        Assert.True(downloading.Count >= 5, $"{downloading.Count} reports");
        Assert.Contains(downloading, r => r.BytesPerSecond > 0 && r.EstimatedTimeRemaining > 0 && r.Progress is > 0 and < 1);
        Assert.True(downloading.Select(r => r.DownloadedSize).SequenceEqual(downloading.Select(r => r.DownloadedSize).Order()));
        Assert.Contains(reports, r => r.Status == DownloadStatus.Verifying);
        Assert.Equal(DownloadStatus.Completed, reports.Last().Status);
        // About 1.5 s of transfer at one write per 0.5 s, plus the status changes; per-buffer writes would be ~100.
        var writes = lib.Store.TaskWrites - writesBefore;
        Assert.InRange(writes, 3, 15);
    }

    /// <summary>IProgress without a synchronization context hop, so the test sees every report in order.</summary>
    sealed class SyncProgress : IProgress<DownloadTask>
    {
        readonly Action<DownloadTask> report;

        public SyncProgress(Action<DownloadTask> report) => this.report = report;

        public void Report(DownloadTask value) => report(value);
    }
}
