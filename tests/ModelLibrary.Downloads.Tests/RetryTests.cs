using System.Diagnostics;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Point 5: retries with backoff, Retry-After, stalls, final errors, the overall timeout.</summary>
public sealed class RetryTests
{
    [Fact]
    public async Task Service_unavailable_with_Retry_After_is_retried_after_the_given_delay()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("busy", 300 * KiB, query: "status=503&failFirst=2&retryAfter=1");
        var clock = Stopwatch.StartNew();

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        // Two refusals, each asking for one second; the configured backoff alone would be milliseconds.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"took {clock.Elapsed}");
        Assert.Equal(4, lib.PathStats(model).Requests); // 503, 503, HEAD, GET
    }

    [Theory]
    [InlineData(404)]
    [InlineData(401)]
    [InlineData(403)]
    public async Task Not_found_and_forbidden_fail_at_once_with_the_status(int status)
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel($"missing-{status}", 300 * KiB, query: $"status={status}");

        var error = await Assert.ThrowsAsync<NetworkException>(() => manager.DownloadAsync(model));

        Assert.Equal(ErrorIds.NetworkFailure, error.ErrorId);
        Assert.Equal(status, error.HttpStatus);
        Assert.Contains(status.ToString(), error.Message);
        Assert.Equal(1, lib.PathStats(model).Requests);
        Assert.Equal(ModelStatus.Error, lib.Store.GetModel(model.Id)!.Status);
        var task = (await manager.GetTasksAsync(model.Id)).Single();
        Assert.Equal(DownloadStatus.Failed, task.Status);
        Assert.Equal(ErrorIds.NetworkFailure, task.ErrorId);
    }

    [Fact]
    public async Task Persistent_server_errors_fail_with_NetworkFailure_after_the_retries()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(FastOptions with { MaxRetryAttempts = 2 });
        var model = lib.GenModel("broken", 300 * KiB, query: "status=500");

        var error = await Assert.ThrowsAsync<NetworkException>(() => manager.DownloadAsync(model));

        Assert.Equal(500, error.HttpStatus);
        Assert.Equal(3, lib.PathStats(model).Requests);
    }

    [Fact]
    public async Task Connection_refused_is_retried_then_reported()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(FastOptions with { MaxRetryAttempts = 2 });
        var model = lib.GenModel("refused", 300 * KiB);
        model.DownloadUrl = "http://127.0.0.1:1/gen/300k/refused";

        var error = await Assert.ThrowsAsync<NetworkException>(() => manager.DownloadAsync(model));

        Assert.Equal(ErrorIds.NetworkFailure, error.ErrorId);
        Assert.Contains("3 attempts", error.Message);
    }

    [Fact]
    public async Task A_stalled_connection_is_restarted_from_its_offset()
    {
        await using var lib = await CreateAsync(connections: 1);
        // Stalls 30 s after 512 KiB; the stall timeout is 1 s.
        var model = lib.GenModel("stalled", 2 * MiB, query: $"stallAfter={512 * KiB}&stallMs=30000&times=1");
        var clock = Stopwatch.StartNew();

        var task = await lib.NewManager(FastOptions with { StallTimeout = TimeSpan.FromSeconds(1) }).DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.True(lib.PathStats(model).RangeRequests >= 1, "the restart asked for the rest only");
        Assert.True(lib.PathStats(model).BytesServed < 1.2 * model.Size!.Value);
    }

    [Fact]
    public async Task The_download_timeout_bounds_the_whole_download()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(FastOptions with { Timeout = TimeSpan.FromMilliseconds(700) });
        var model = lib.GenModel("slow", 2 * MiB, query: "rate=262144");

        var error = await Assert.ThrowsAsync<NetworkException>(() => manager.DownloadAsync(model));

        Assert.Contains("timed out", error.Message);
        Assert.True(File.Exists(lib.Staging(model.Id).Partial), "the bytes stay for Resume");
    }
}
