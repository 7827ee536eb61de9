using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using ModelLibrary.Files;

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
        sources = SourcesOf(request);
        var limit = request.MaxBytesPerSecond is > 0 ? request.MaxBytesPerSecond.Value : configuration.DownloadMaxBytesPerSecond;
        Limiter = limit > 0 ? new RateLimiter(limit) : null;
    }

    // The URLs of the file being fetched (current): its URL and, for a model of one file, the catalog's mirrors.
    DownloadSources sources;

    /// <summary>Mirrors only where the final checksum will prove their bytes; the host budget shared with the library's other processes.</summary>
    DownloadSources SourcesOf(DownloadRequest file) => new(validate ? file : file with { Mirrors = null }, Path.Combine(paths.DownloadsDirectory, "hosts"));

    /// <summary>This download's bandwidth limit, if it has one (<see cref="DownloadRequest.MaxBytesPerSecond"/>, <c>DownloadMaxBytesPerSecond</c>).</summary>
    internal RateLimiter? Limiter { get; }

    /// <summary>The connections of the last transfer (for tests and reports).</summary>
    internal Connections? LastConnections { get; private set; }

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
        if (!ReferenceEquals(sources.Request, request))
        {
            sources = SourcesOf(request);
        }

        var singleStream = false;
        for (var restarts = 0; ; restarts++)
        {
            ResumeState? state = null;
            try
            {
                var (remote, answered) = await ProbeSourcesAsync(request, cancellationToken);
                if (remote.Length == 0)
                {
                    // Some servers answer HEAD with a length of 0 for anything; let the body tell.
                    remote = remote with { Length = null, AcceptsRanges = false };
                }

                ReportProbe(remote, answered.Url);
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

    /// <summary>
    /// HEAD to the sources in order (the request's URL, then its mirrors); the first that answers describes the file.
    /// One that fails (unreachable, an error status after the retries, a web page) while another is left is dropped
    /// for the rest of the download, as its ranges would fail the same way. When every source fails, the request's
    /// own URL's failure is the one thrown. A mirror's validators (ETag, Last-Modified) are its own and not kept: its
    /// bytes are proven by the checksum, which every file with mirrors has (<see cref="DownloadSources"/>).
    /// </summary>
    async Task<(RemoteFile Remote, DownloadSources.Source Answered)> ProbeSourcesAsync(DownloadRequest request, CancellationToken cancellationToken)
    {
        ExceptionDispatchInfo? first = null;
        // Never empty: a source is dropped only while another one is alive.
        foreach (var source in sources.Alive.ToList())
        {
            try
            {
                var remote = await RemoteFile.ProbeAsync(http, pipeline, request, cancellationToken, RequestLogin.From(options), source.Url);
                return (source.Url == request.Url ? remote : remote with { ETag = null, LastModified = null }, source);
            }
            catch (Exception e) when (e is TransientDownloadException or ModelLibraryException && !cancellationToken.IsCancellationRequested)
            {
                first ??= ExceptionDispatchInfo.Capture(e);
                var next = sources.Alive.FirstOrDefault(s => s.Index > source.Index);
                if (next is null)
                {
                    first.Throw();
                }

                source.Dropped = true;
                lifecycle.Report(active, $"Source {source.Host} dropped: {Net.SafeUrl.MaskText(e.Message)?.TrimEnd('.')}. Asking {next.Host} ({Net.SafeUrl.Masked(next.Url)}).");
            }
        }

        throw new InvalidOperationException("No source of the file is left to ask.");
    }

    void ReportProbe(RemoteFile remote, Uri asked)
    {
        var redirected = remote.FinalUrl != asked && remote.FinalUrl.IdnHost != asked.IdnHost ? $", redirected to {remote.FinalUrl.Host}" : "";
        lifecycle.Report(active, $"{asked.Host} answered: {(remote.Length is { } length ? ByteSize.Format(length) : "size unknown")}, {(remote.AcceptsRanges ? "byte ranges accepted" : "no byte ranges")}{redirected}.");
    }

    void ReportPlan(ResumeState state)
    {
        var resumeFrom = state.DownloadedBytes > 0 ? $" Resuming from {ByteSize.Format(state.DownloadedBytes)} on disk." : "";
        lifecycle.Report(active, state.SingleStream
            ? $"One connection (a single stream){(state.TotalSize is null && current.DeclaredSize is { } declared ? $", stopped if it passes the declared {ByteSize.Format(declared)}" : "")}.{resumeFrom}"
            : $"Byte ranges over up to {connections} connections to one host (DownloadConnections, shared by all downloads); more join while they raise the rate, when one is slower than {ByteSize.Format((long)options.SingleConnectionRate)}/s"
              + $"{(sources.HasMirrors ? $", from {sources.All.Count} sources" : "")}{(Limiter is { } limit ? $", at most {ByteSize.Format(limit.BytesPerSecond)}/s" : "")}.{resumeFrom}");
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
        // One range over the whole file; connections that join take chunks of it or split what is left.
        var split = !singleStream && remote.AcceptsRanges && remote.Length is { } length && length >= 2 * options.MinSplitSize && connections > 1;
        return new ResumeState
        {
            TaskId = active.TaskId,
            Request = current,
            TotalSize = remote.Length,
            ETag = remote.ETag,
            LastModified = remote.LastModified,
            SingleStream = !split,
            Parts = new List<SavedPart> { new(0, remote.Length, 0) },
        };
    }

    /// <summary>The partial file is as long as the state says it must be (a truncated one would hash wrong).</summary>
    bool PartialFits(ResumeState saved)
    {
        var partial = new FileInfo(partialPath);
        return partial.Exists && (saved.TotalSize is { } total ? partial.Length == total : partial.Length >= saved.DownloadedBytes);
    }

    PartList BuildParts(ResumeState state)
    {
        var saved = state.Parts.Count > 0 ? state.Parts : new List<SavedPart> { new(0, state.TotalSize, 0) };
        var list = state.SingleStream
            ? new[] { new Part(0, 0, state.TotalSize, saved[0].Done) }
            : saved.Select((p, i) => new Part(i, p.Start, p.Length, Math.Clamp(p.Done, 0, p.Length ?? long.MaxValue))).ToArray();
        if (state.SingleStream)
        {
            // One request from start to end: never cut, never split.
            return new PartList(list, long.MaxValue, long.MaxValue, options.BufferSize);
        }

        var chunk = Math.Clamp(state.TotalSize!.Value / (2L * connections), options.MinSplitSize, Math.Max(options.MinSplitSize, options.PartSize));
        return new PartList(list, chunk, options.MinSplitSize, options.BufferSize);
    }

    ResumeState? transferState;

    async Task<(byte[] Digest, long Length)> TransferAsync(ResumeState state, bool lastFile, CancellationToken cancellationToken)
    {
        transferState = state;

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
                    var fetcher = new PartFetcher(http, state, handle, partialPath, stallTimeout, options.BufferSize, options.WriteSize, hasher, RequestLogin.From(options), Limiter);
                    var pool = new Connections(parts, sources, fetcher, options, pipeline, connections, text => lifecycle.Report(active, text));
                    LastConnections = pool;
                    await pool.RunAsync(mayGrow: !state.SingleStream, cancellationToken);
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
    /// The file's hash is wrong and it came from several sources: one whole-file hash cannot say which bytes are
    /// wrong, so each source's bytes in turn are fetched again from another source and the file hashed again. When
    /// it then matches, the source whose bytes were replaced served wrong ones and is dropped. Null: no source
    /// could be blamed (the file is then as wrong as before, and the caller fails the download).
    /// </summary>
    async Task<byte[]?> RepairFromMirrorsAsync(string expectedHex, CancellationToken cancellationToken)
    {
        if (!sources.HasMirrors || transferState is not { } state)
        {
            return null;
        }

        foreach (var suspect in sources.All.ToList())
        {
            var ranges = sources.RangesOf(suspect);
            var other = sources.Alive.FirstOrDefault(s => s != suspect);
            if (ranges.Count == 0 || other is null)
            {
                continue;
            }

            lifecycle.Report(active, $"The file's SHA-256 is wrong; fetching the {ByteSize.Format(ranges.Sum(r => r.End - r.Start))} that {suspect.Host} served again from {other.Host}.");
            using (var file = new FileStream(partialPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1, FileOptions.None))
            {
                var fetcher = new PartFetcher(http, state, file.SafeFileHandle, partialPath, stallTimeout, options.BufferSize, options.WriteSize, null, RequestLogin.From(options), Limiter);
                foreach (var (start, end) in ranges)
                {
                    var part = new Part(-1, start, end - start, 0);
                    await pipeline.ExecuteAsync(async token =>
                    {
                        while (!part.IsComplete)
                        {
                            var from = part.Position;
                            try
                            {
                                await fetcher.FetchAsync(part, other.Url, token);
                            }
                            finally
                            {
                                sources.Served(other, from, part.Position);
                            }
                        }
                    }, cancellationToken);
                }
            }

            var digest = await HashFileAsync(cancellationToken);
            if (string.Equals(Convert.ToHexString(digest), expectedHex, StringComparison.OrdinalIgnoreCase))
            {
                suspect.Dropped = true;
                lifecycle.Report(active, $"Source {suspect.Host} served wrong bytes ({Net.SafeUrl.Masked(suspect.Url)}) and was dropped; the file now matches its checksum.");
                DroppedForWrongBytes.Add(suspect.Url);
                return digest;
            }
        }

        return null;
    }

    /// <summary>Sources found serving wrong bytes (for reports and tests).</summary>
    internal List<Uri> DroppedForWrongBytes { get; } = new();

    async Task<byte[]> HashFileAsync(CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(partialPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20, FileOptions.SequentialScan);
        return await System.Security.Cryptography.SHA256.HashDataAsync(stream, cancellationToken);
    }

    /// <summary>Checksum, validation, move into the provider folder.</summary>
    async Task<LocalModelFile> FinishAsync(byte[] digest, long length, CancellationToken cancellationToken)
    {
        var actual = Sha256Checksum.Format(digest);
        active.Update(t => t.Checksum = actual);
        if (validate)
        {
            if (Sha256Checksum.Hex(request.Checksum) is { } wanted && !string.Equals(wanted, actual[7..], StringComparison.OrdinalIgnoreCase)
                && await RepairFromMirrorsAsync(wanted, cancellationToken) is { } repaired)
            {
                actual = Sha256Checksum.Format(repaired);
                active.Update(t => t.Checksum = actual);
            }

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
