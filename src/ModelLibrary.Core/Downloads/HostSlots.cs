namespace ModelLibrary.Downloads;

/// <summary>
/// The per-host connection budget across the processes of one library: slot files
/// <c>downloads/hosts/&lt;host&gt;_&lt;port&gt;/&lt;n&gt;.lock</c> (n below <c>DownloadConnections</c>), each held open with an
/// exclusive lock by one connection for its whole life. The operating system drops the locks of a process that dies,
/// so a killed pwsh never keeps its slots. One file open per connection, not per request; <see cref="HostConnections"/>
/// stays the fast path inside the process. The files stay behind, as <see cref="DownloadLock"/>'s do (deleting one
/// would let two processes lock two different files of the same name).
/// </summary>
/// <remarks>
/// Where the slots cannot be used at all (a read-only library, a file system without locks), a connection goes on
/// without one: the budget across processes is a courtesy to the server and must never stop a download.
/// </remarks>
internal sealed class HostSlots
{
    /// <summary>How often a download's first connection looks again for a slot another process gave back.</summary>
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    readonly string directory;

    HostSlots(string directory) => this.directory = directory;

    /// <summary>The slots of <paramref name="url"/>'s host and port under <paramref name="hostsDirectory"/> (<c>downloads/hosts</c>).</summary>
    public static HostSlots For(string hostsDirectory, Uri url)
    {
        var host = new string(url.IdnHost.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_').ToArray());
        return new HostSlots(Path.Combine(hostsDirectory, $"{host}_{url.Port}"));
    }

    public string Directory => directory;

    /// <summary>A free slot below <paramref name="cap"/>, or null when other processes hold them all.</summary>
    public Slot? TryTake(int cap)
    {
        try
        {
            Configuration.PrivateFiles.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Slot.None;
        }

        var unusable = 0;
        for (var n = 0; n < cap; n++)
        {
            try
            {
                // FileShare.None: an exclusive open on Windows, flock(LOCK_EX) on Unix.
                return new Slot(new FileStream(Path.Combine(directory, n + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1));
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                unusable++;
            }
        }

        // Not one slot file could be opened for a reason other than a lock: the budget cannot be kept here.
        return unusable == cap ? Slot.None : null;
    }

    /// <summary>Waits until another process gives a slot back (a download's first connection, which cannot do without one).</summary>
    public async Task<Slot> TakeAsync(int cap, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTake(cap) is { } slot)
            {
                return slot;
            }

            await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The open failed because another handle holds the file's lock (EWOULDBLOCK; a sharing or lock violation on Windows).</summary>
    static bool IsHeldByAnother(IOException e) => OperatingSystem.IsWindows()
        ? (e.HResult & 0xFFFF) is 32 or 33
        : e.HResult is 11 or 35;

    /// <summary>One held slot; disposing gives it back.</summary>
    internal sealed class Slot : IDisposable
    {
        /// <summary>Held without a file: the slots cannot be used in this library.</summary>
        public static readonly Slot None = new(null);

        readonly FileStream? file;

        internal Slot(FileStream? file) => this.file = file;

        public void Dispose() => file?.Dispose();
    }
}
