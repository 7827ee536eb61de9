using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace ModelLibrary.Downloads;

/// <summary>
/// One attempt to bring a model's file home, from the first request to the registry row: probe, space check,
/// ranged transfer into the partial file with the hash following, verification, validation, atomic move.
/// Stopping (pause, cancel, timeout) arrives as cancellation of the token; the caller decides what it means.
/// It gets what it needs and no more: the task it runs, the connection pool, the options and configuration, and the
/// <see cref="TaskLifecycle"/> to record progress, report what it does (-Verbose) and move the task to Verifying. Completing the
/// task (the model's row Local) is the caller's, with the file this run returns.
/// </summary>
internal sealed partial class DownloadRun
{
    const int MaxRestarts = 3;

    readonly ActiveDownload active;
    readonly HttpClient http;
    readonly TaskLifecycle lifecycle;
    readonly DownloadOptions options;
    readonly DownloadRequest request;
    readonly DownloadPaths paths;
    readonly int connections;
    readonly TimeSpan stallTimeout;
    readonly bool validate;
    readonly Polly.ResiliencePipeline pipeline;
    // The file being fetched: the model's one file, or one file of a folder model (see ExecuteFolderAsync).
    DownloadRequest current;
    string partialPath;
    string statePath;
    // Folder models: bytes of the files already done, and the whole model's size, for one progress over the total.
    long bytesBefore;
    long? grandTotal;

    public DownloadRun(ActiveDownload active, HttpClient http, DownloadOptions options,
        ModelLibrary.Configuration.LibraryConfiguration configuration, TaskLifecycle lifecycle)
    {
        this.active = active;
        this.http = http;
        this.options = options;
        this.lifecycle = lifecycle;
        request = active.Request;
        paths = active.Paths;
        current = request;
        partialPath = paths.Partial;
        statePath = paths.State;
        connections = configuration.DownloadConnections;
        stallTimeout = options.StallTimeout ?? TimeSpan.FromSeconds(configuration.DownloadStallTimeout);
        validate = configuration.EnableModelValidation;
        pipeline = RetryPipeline.Create(options, OnRetryAsync);
    }

    /// <summary>Each retry shows in the task (<see cref="DownloadTask.Retries"/>, <see cref="DownloadTask.LastRetry"/>) and in -Verbose.</summary>
    ValueTask OnRetryAsync(Exception failure, int retry, TimeSpan wait)
    {
        var text = $"{Net.SafeUrl.MaskText(failure.Message)?.TrimEnd('.')}; retry {retry} of {options.MaxRetryAttempts} in {wait.TotalSeconds:0.0} s.";
        active.Update(t =>
        {
            t.Retries++;
            t.LastRetry = text;
        });
        lifecycle.Report(active, text);
        lifecycle.Publish(active);
        return ValueTask.CompletedTask;
    }

    bool Abandoned => active.StopReason == StopReason.Abandon;

    /// <summary>Brings the file home; returns it as it now lies in its provider folder.</summary>
    public async Task<LocalModelFile> ExecuteAsync(CancellationToken cancellationToken)
    {
        // A request left by an asker that gave up is not for this run.
        File.Delete(paths.Staging.Request);
        if (!File.Exists(paths.State))
        {
            // Before the first request, so that a pause this early can still be resumed by task id alone: the state
            // says what to download. It plans nothing (no partial yet), so the probe below makes a fresh plan.
            Configuration.PrivateFiles.CreateDirectory(paths.DownloadsDirectory);
            new ResumeState { TaskId = active.TaskId, Request = request, SingleStream = true }.Save(paths.State);
        }

        if (request.IsFolder)
        {
            return await ExecuteFolderAsync(cancellationToken);
        }

        var (digest, length) = await FetchFileAsync(lastFile: true, cancellationToken);
        return await FinishAsync(digest, length, cancellationToken);
    }

    /// <summary>
    /// Brings <see cref="current"/> into <see cref="partialPath"/>, verified by the hash as it comes: probe, plan or
    /// resume, ranged transfer; starts over (up to <see cref="MaxRestarts"/> times) when the server's file changed.
    /// </summary>
    async Task<(byte[] Digest, long Length)> FetchFileAsync(bool lastFile, CancellationToken cancellationToken)
    {
        var request = current;
        lifecycle.Report(active, $"Downloading '{request.ModelId}'" + (ReferenceEquals(current, this.request) ? "" : $" ({request.FileName})") + $" from source '{active.Model.Source ?? "(none)"}': {Net.SafeUrl.Masked(request.Url)}");
        var singleStream = false;
        for (var restarts = 0; ; restarts++)
        {
            ResumeState? state = null;
            try
            {
                var remote = await RemoteFile.ProbeAsync(http, pipeline, request, cancellationToken, options.Authorize);
                if (remote.Length == 0)
                {
                    // Some servers answer HEAD with a length of 0 for anything; let the body tell.
                    remote = remote with { Length = null, AcceptsRanges = false };
                }

                ReportProbe(remote);
                SizeLimit.CheckStated(request, remote.Length, "its HEAD answer");
                state = PrepareState(remote, singleStream);
                ReportPlan(state);
                if (grandTotal is null)
                {
                    Preflight.CheckDiskSpace(request.ModelId, paths, state.TotalSize ?? request.DeclaredSize ?? 0, state.DownloadedBytes, options);
                }

                return await TransferAsync(state, lastFile, cancellationToken);
            }
            catch (RestartDownloadException e) when (restarts < MaxRestarts && !cancellationToken.IsCancellationRequested)
            {
                // Bytes on disk no longer match the server's file: start over, as one stream if ranges misbehaved.
                lifecycle.Report(active, $"{e.Message} Starting over ({restarts + 1} of {MaxRestarts}).");
                singleStream |= e.SingleStream;
                DeleteFilePartial();
            }
            catch (RestartDownloadException e)
            {
                throw Errors.NetworkFailure($"Downloading '{request.ModelId}' failed: {e.Message} (started over {restarts} times).", target: request.ModelId, inner: e,
                    details: new Dictionary<string, object?> { ["model_id"] = request.ModelId, ["url"] = Net.SafeUrl.Masked(request.Url) },
                    resolutionSteps: new[] { "The server keeps changing the file or its answers; try again later.", "If it persists, report it to the source's owner." });
            }
            catch (TransientDownloadException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Errors.NetworkFailure(
                    $"Downloading '{request.ModelId}' failed after {options.MaxRetryAttempts + 1} attempts: {Net.SafeUrl.MaskText(e.Message)}",
                    e.HttpStatus, request.ModelId, e,
                    new Dictionary<string, object?> { ["model_id"] = request.ModelId, ["url"] = Net.SafeUrl.Masked(request.Url), ["http_status"] = e.HttpStatus });
            }
            catch (DiscardPartialException e)
            {
                // What arrived is not the file (a web page, more bytes than the file has): nothing to resume from.
                DeleteFilePartial();
                throw e.Error;
            }
            catch (DiskSpaceException) when (state is { TotalSize: null })
            {
                // A stream of unknown size that filled the disk cannot be resumed; give the space back at once.
                DeleteFilePartial();
                throw;
            }
        }
    }

    void ReportProbe(RemoteFile remote)
    {
        var redirected = remote.FinalUrl != current.Url && remote.FinalUrl.IdnHost != current.Url.IdnHost ? $", redirected to {remote.FinalUrl.Host}" : "";
        lifecycle.Report(active, $"{current.Url.Host} answered: {(remote.Length is { } length ? ByteSize.Format(length) : "size unknown")}, {(remote.AcceptsRanges ? "byte ranges accepted" : "no byte ranges")}{redirected}.");
    }

    void ReportPlan(ResumeState state)
    {
        var resumeFrom = state.DownloadedBytes > 0 ? $" Resuming from {ByteSize.Format(state.DownloadedBytes)} on disk." : "";
        lifecycle.Report(active, state.SingleStream
            ? $"One connection (a single stream){(state.TotalSize is null && current.DeclaredSize is { } declared ? $", stopped if it passes the declared {ByteSize.Format(declared)}" : "")}.{resumeFrom}"
            : $"{state.PartsDone.Length} parts of {ByteSize.Format(state.PartSize)} over up to {connections} connections (DownloadConnections); the others join when one is slower than {ByteSize.Format((long)options.SingleConnectionRate)}/s.{resumeFrom}");
    }

    /// <summary>
    /// The saved state when it still describes the server's file and the partial is there; otherwise a fresh
    /// plan (and the old partial goes). A file is split only when the server takes ranges, tells the size, and
    /// the size is above one part.
    /// </summary>
    ResumeState PrepareState(RemoteFile remote, bool singleStream)
    {
        var saved = ResumeState.Load(statePath);
        if (saved is not null
            && remote.Matches(saved)
            && PartialFits(saved)
            && (saved.DownloadedBytes == 0 || remote.AcceptsRanges)
            && (!singleStream || saved.SingleStream))
        {
            saved.Request = current;
            saved.TaskId = active.TaskId;
            return saved;
        }

        DeleteFilePartial();
        var split = !singleStream && remote.AcceptsRanges && remote.Length is { } length && length > options.PartSize && connections > 1;
        var partSize = split ? options.PartSize : remote.Length ?? 0;
        var partCount = split ? (int)((remote.Length!.Value + partSize - 1) / partSize) : 1;
        return new ResumeState
        {
            TaskId = active.TaskId,
            Request = current,
            TotalSize = remote.Length,
            ETag = remote.ETag,
            LastModified = remote.LastModified,
            SingleStream = !split,
            PartSize = partSize,
            PartsDone = new long[partCount],
        };
    }

    /// <summary>The partial file is as long as the state says it must be (a truncated one would hash wrong).</summary>
    bool PartialFits(ResumeState saved)
    {
        var partial = new FileInfo(partialPath);
        return partial.Exists && (saved.TotalSize is { } total ? partial.Length == total : partial.Length >= saved.DownloadedBytes);
    }

    static List<Part> BuildParts(ResumeState state)
    {
        if (state.SingleStream)
        {
            return new List<Part> { new(0, 0, state.TotalSize, state.PartsDone.FirstOrDefault()) };
        }

        var total = state.TotalSize!.Value;
        return state.PartsDone.Select((done, i) =>
        {
            var start = i * state.PartSize;
            var length = Math.Min(state.PartSize, total - start);
            return new Part(i, start, length, Math.Clamp(done, 0, length));
        }).ToList();
    }

    async Task<(byte[] Digest, long Length)> TransferAsync(ResumeState state, bool lastFile, CancellationToken cancellationToken)
    {
        Configuration.PrivateFiles.CreateDirectory(paths.DownloadsDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(partialPath)!);
        var parts = BuildParts(state);
        long length;
        byte[] digest;
        using (var file = OpenPartial(state))
        {
            // Full size up front (sparse where the file system allows) so every part writes at its offset.
            if (file.Length != (state.TotalSize ?? state.DownloadedBytes))
            {
                file.SetLength(state.TotalSize ?? state.DownloadedBytes);
            }

            state.Save(statePath);
            var handle = file.SafeFileHandle;
            await using var hasher = new PrefixHasher(handle, () => Part.ContiguousEnd(parts), options.BufferSize, options.HashBuffers, cancellationToken);
            using (var ticker = new ProgressTicker(lifecycle, options, active, parts, state, statePath, bytesBefore, grandTotal))
            {
                try
                {
                    var fetcher = new PartFetcher(http, state, handle, partialPath, stallTimeout, options.BufferSize, options.WriteSize, hasher, options.Authorize);
                    await RunPartsAsync(fetcher, parts, cancellationToken);
                }
                finally
                {
                    await ticker.StopAsync(save: !Abandoned);
                }
            }

            length = Part.ContiguousEnd(parts);
            if (state.TotalSize is null)
            {
                // A stream of unknown size ended: what arrived is the file.
                file.SetLength(length);
                state.TotalSize = length;
                state.Save(statePath);
            }

            if (!lastFile)
            {
                return (await hasher.CompleteAsync(length), length);
            }

            await lifecycle.ToVerifyingAsync(active, bytesBefore + length);
            digest = await hasher.CompleteAsync(length);
        }

        return (digest, length);
    }

    /// <summary>
    /// Opens the partial file; a new one of known size has its space reserved up front (fallocate where the file
    /// system supports it), so a full disk shows at once rather than part way.
    /// </summary>
    FileStream OpenPartial(ResumeState state)
    {
        var fresh = !File.Exists(partialPath);
        try
        {
            return new FileStream(partialPath, new FileStreamOptions
            {
                Mode = fresh ? FileMode.CreateNew : FileMode.Open,
                Access = FileAccess.ReadWrite,
                Share = FileShare.Read,
                BufferSize = 0,
                PreallocationSize = fresh ? state.TotalSize ?? 0 : 0,
            });
        }
        catch (IOException e) when (DiskErrors.IsDiskFull(e))
        {
            throw Errors.InsufficientDiskSpace(request.ModelId, state.TotalSize ?? 0, Volumes.AvailableFreeSpace(paths.DownloadsDirectory) ?? 0, paths.DownloadsDirectory);
        }
    }

    /// <summary>
    /// Parts go to the connections in file order, so the hashed prefix keeps up. The first real failure stops the
    /// other connections and is the one reported. One connection starts; the others join when it proves slower
    /// than <see cref="DownloadOptions.SingleConnectionRate"/> over its first window (see <see cref="RampAsync"/>).
    /// </summary>
    async Task RunPartsAsync(PartFetcher fetcher, List<Part> parts, CancellationToken cancellationToken)
    {
        var queue = new ConcurrentQueue<Part>(parts.Where(p => !p.IsComplete));
        var workers = Math.Clamp(Math.Min(connections, queue.Count), 1, int.MaxValue);
        using var stopOthers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? firstFailure = null;

        async Task WorkAsync()
        {
            try
            {
                while (queue.TryDequeue(out var part))
                {
                    await FetchPartAsync(fetcher, part, stopOthers.Token);
                }
            }
            catch (Exception e) when (!stopOthers.IsCancellationRequested)
            {
                // The first to fail (before anyone was told to stop) is the cause; the others only echo it.
                Interlocked.CompareExchange(ref firstFailure, e, null);
                stopOthers.Cancel();
            }
        }

        var first = Task.Run(WorkAsync);
        var running = new List<Task> { first };
        if (workers > 1)
        {
            if (await RampAsync(first, parts, stopOthers.Token))
            {
                running.AddRange(Enumerable.Range(1, workers - 1).Select(_ => Task.Run(WorkAsync)));
            }
        }

        try
        {
            await Task.WhenAll(running);
        }
        catch (Exception) when (firstFailure is not null || cancellationToken.IsCancellationRequested)
        {
            // Reported below: a stop request wins, else the first failure.
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (firstFailure is not null)
        {
            ExceptionDispatchInfo.Throw(firstFailure);
        }
    }

    /// <summary>
    /// Watches the first connection for one <see cref="DownloadOptions.ConnectionRampWindow"/>: true (add the other
    /// connections) when it moved fewer bytes per second than <see cref="DownloadOptions.SingleConnectionRate"/>;
    /// false when it was faster, or finished (or failed, or was stopped) within the window. A connection that fast
    /// already keeps the disk and the hash busy (loopback, a fast LAN), so a later dip is local (page cache
    /// writeback, CPU) and more connections would only compete for the same cores; a slow start (latency, slow
    /// start of TCP, a throttled server) shows in the window and gets the others at once.
    /// </summary>
    async Task<bool> RampAsync(Task first, List<Part> parts, CancellationToken token)
    {
        var threshold = options.SingleConnectionRate;
        if (threshold <= 0)
        {
            return true;
        }

        long Downloaded() => parts.Sum(p => p.Done);
        var before = Downloaded();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (await Task.WhenAny(first, Task.Delay(options.ConnectionRampWindow, token)) == first || token.IsCancellationRequested)
        {
            return false;
        }

        var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        return (Downloaded() - before) / seconds < threshold;
    }

    /// <summary>
    /// One part to the end. Polly spaces out retries of attempts that got nothing; an attempt that made progress
    /// before failing (a dropped connection, a stall) reconnects at once without using up a retry, so a long
    /// download survives any number of hiccups as long as bytes keep coming.
    /// </summary>
    async Task FetchPartAsync(PartFetcher fetcher, Part part, CancellationToken cancellationToken)
    {
        await pipeline.ExecuteAsync(async token =>
        {
            while (!part.IsComplete)
            {
                var before = part.Done;
                try
                {
                    await fetcher.FetchAsync(part, token);
                }
                catch (TransientDownloadException e) when (part.Done > before && !token.IsCancellationRequested)
                {
                    lifecycle.Report(active, $"{e.Message.TrimEnd('.')}; reconnecting at once (bytes were still coming).");
                }
            }
        }, cancellationToken);
    }

    /// <summary>Checksum, validation, move into the provider folder.</summary>
    async Task<LocalModelFile> FinishAsync(byte[] digest, long length, CancellationToken cancellationToken)
    {
        var actual = Sha256Checksum.Format(digest);
        active.Update(t => t.Checksum = actual);
        if (validate)
        {
            if (Sha256Checksum.Hex(request.Checksum) is { } expected && !string.Equals(expected, actual[7..], StringComparison.OrdinalIgnoreCase))
            {
                paths.Staging.DeletePartial();
                throw Errors.ChecksumMismatch(request.Url.ToString(), "sha256:" + expected, actual, request.ModelId, $"The downloaded file ({length} bytes) was deleted.");
            }
        }

        // The validator applies ENABLE_MODEL_VALIDATION (format, size) and ENABLE_SECURITY_SCANNING (containment,
        // pickle scan) itself: a security scan must still run when format validation is turned off.
        if (options.Validator is { } validator)
        {
            try
            {
                await validator.ValidateAsync(paths.Partial, active.Model, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                paths.Staging.DeletePartial();
                if (e is ModelLibraryException)
                {
                    throw;
                }

                throw Errors.InvalidModelFile(paths.Target, e.Message, e);
            }
        }

        // From here on the file is good: finish even if asked to stop, so it never sits verified but unregistered.
        await FileMover.MoveIntoPlaceAsync(paths.Partial, paths.Target, CancellationToken.None);
        File.Delete(paths.State);
        return new LocalModelFile(paths.Target, new FileInfo(paths.Target).Length, actual, DateTimeOffset.UtcNow);
    }
}
