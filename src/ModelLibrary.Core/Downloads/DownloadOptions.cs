using System.Net;

namespace ModelLibrary.Downloads;

/// <summary>
/// The engine's tuning: what users set lives in <see cref="Configuration.LibraryConfiguration"/>; this is what
/// hosts and tests adjust (retry delays, part size, intervals).
/// </summary>
public sealed record DownloadOptions
{
    const long MiB = 1024 * 1024;

    /// <summary>
    /// The Authorization a request to this URL carries (a Hub token for the Hub's own host), or null. Asked for
    /// every request, never stored with the download. Sent to that URL only: a redirect to another host (a CDN)
    /// goes without it, since the HTTP handler drops Authorization when it follows a redirect.
    /// </summary>
    /// <remarks>Asynchronous: a registry's bearer token may need fetching again when it expires during a long download.</remarks>
    public Func<Uri, CancellationToken, ValueTask<System.Net.Http.Headers.AuthenticationHeaderValue?>>? Authorize { get; init; }

    /// <summary>
    /// Asked when a request that carried <see cref="Authorize"/>'s login is refused. With <c>final</c> false (a 401: a
    /// registry token that expired or was revoked mid-download): a fresh login to send the request once more with, or
    /// null. With <c>final</c> true (the fresh login refused too, or a 403): the last word, where the hook may throw a
    /// clearer error than the engine's NetworkFailure (AuthenticationRequired naming the registry); its answer is ignored.
    /// </summary>
    public Func<Uri, System.Net.Http.HttpResponseMessage, bool, CancellationToken, ValueTask<System.Net.Http.Headers.AuthenticationHeaderValue?>>? Reauthorize { get; init; }

    /// <summary>Retries per request after the first try, for failures that made no progress.</summary>
    public int MaxRetryAttempts { get; init; } = 8;

    /// <summary>First retry delay; doubles each retry, with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A server's Retry-After is honoured up to this long.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Most bytes a connection takes at once from the part of the file nobody works on yet: a chunk is the file's
    /// size over twice <c>DownloadConnections</c>, between <see cref="MinSplitSize"/> and this. Chunks go out in file
    /// order, so the verified prefix trails the transfer by about connections × chunk size.
    /// </summary>
    public long PartSize { get; init; } = 32 * MiB;

    /// <summary>
    /// Smallest range a split leaves (aria2's <c>-k</c>): a connection that runs out of work splits the largest
    /// remaining range in two only when both halves are at least this long. Files under twice this are one stream.
    /// </summary>
    public long MinSplitSize { get; init; } = MiB;

    /// <summary>
    /// A split file starts on one connection; the other <c>DownloadConnections</c> join when its first
    /// <see cref="ConnectionRampWindow"/> moves fewer bytes per second than this. A single connection this fast
    /// (loopback, a fast LAN) already keeps the disk and the hash busy, and more connections would only compete
    /// for the same cores. 0: all connections from the start.
    /// </summary>
    public long SingleConnectionRate { get; init; } = 256 * MiB;

    /// <summary>How long the first connection is watched before deciding whether the others join.</summary>
    public TimeSpan ConnectionRampWindow { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Receive buffer per connection (pooled).</summary>
    public int BufferSize { get; init; } = (int)MiB;

    /// <summary>
    /// Largest single write to the partial file. A receive can bring most of <see cref="BufferSize"/> at once, but
    /// on Linux 6.x a write that large makes ext4 back the page cache with large folios, whose allocation is slow
    /// when free memory is fragmented or was handed back to a hypervisor: writing 700 KiB receives whole made the
    /// 2 GiB benchmark 1.5x slower than in 128 KiB slices (the I/O size coreutils' cp and cat use too). Each slice is
    /// one pwrite, so the cost in system calls stays small.
    /// </summary>
    public int WriteSize { get; init; } = 128 * 1024;

    /// <summary>
    /// Receive buffers a download may hand to its hash instead of reusing them (see <see cref="PrefixHasher"/>):
    /// at most this many × <see cref="BufferSize"/> of memory, which lets the hash lag this far behind a fast
    /// connection before it reads bytes back from the file.
    /// </summary>
    public int HashBuffers { get; init; } = 16;

    /// <summary>How often progress reaches the task store, the model row and the resume state file.</summary>
    public TimeSpan PersistInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the in-memory task and <see cref="DownloadManager.TaskChanged"/> see new progress.</summary>
    public TimeSpan ReportInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Overrides <c>DownloadStallTimeout</c> (whole seconds) with a finer value.</summary>
    public TimeSpan? StallTimeout { get; init; }

    /// <summary>Overrides <c>DownloadTimeout</c> (whole seconds) with a finer value.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Free space kept beyond the file: this much plus <see cref="FreeSpaceMarginFraction"/> of it.</summary>
    public long FreeSpaceMargin { get; init; } = 64 * MiB;

    public double FreeSpaceMarginFraction { get; init; } = 0.01;

    /// <summary>Proxy for all requests; null uses the system's (<see cref="System.Net.Http.HttpClient.DefaultProxy"/>).</summary>
    public IWebProxy? Proxy { get; init; }

    /// <summary>Format and security checks before a file lands; null skips them.</summary>
    public IModelFileValidator? Validator { get; init; }

    /// <summary>
    /// The slots shared by all transfers. Give several managers the same gate to bound them together; by default
    /// each manager has its own, sized by <c>MaxConcurrentDownloads</c>.
    /// </summary>
    public ConcurrencyGate? Gate { get; init; }

    /// <summary>How long a pause or cancel asked of another process may take before it counts as unanswered.</summary>
    public TimeSpan OwnerAnswerTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a waiter polls the store for a task another process runs.</summary>
    public TimeSpan ForeignTaskPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);
}
