namespace ModelLibrary.Downloads;

/// <summary>
/// An exclusive lock on <c>downloads/&lt;model&gt;.lock</c>, held for a download's life, so two processes (or two
/// managers) never write into one partial file. The operating system drops it when the process dies, so a
/// killed download never blocks the next one. The file stays behind: deleting it would let a third process
/// lock a new file while a second one still waits on the old one.
/// </summary>
internal sealed class DownloadLock : IDisposable
{
    readonly FileStream stream;

    DownloadLock(FileStream stream) => this.stream = stream;

    /// <summary>The lock, or null when someone else holds it.</summary>
    public static DownloadLock? TryAcquire(string path)
    {
        try
        {
            Configuration.PrivateFiles.CreateDirectory(Path.GetDirectoryName(path)!);
            // FileShare.None: an exclusive open on Windows, flock(LOCK_EX) on Unix.
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            try
            {
                stream.SetLength(0);
                var owner = System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId} {Environment.MachineName} {DateTimeOffset.UtcNow:O}\n");
                stream.Write(owner);
                stream.Flush();
            }
            catch (IOException)
            {
                // The note of who holds it is a courtesy; the lock itself is what matters.
            }

            return new DownloadLock(stream);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException e)
        {
            throw Errors.LibraryReadOnly(path, "cannot be written", e);
        }
    }

    /// <summary>
    /// Whether a process holds the lock, asked without writing anything (a reader of a read-only library): null when
    /// that cannot be told.
    /// </summary>
    public static bool? IsHeld(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None, 1);
            return false;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose() => stream.Dispose();
}
