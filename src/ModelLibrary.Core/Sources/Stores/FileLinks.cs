using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace ModelLibrary.Sources.Stores;

/// <summary>
/// Hard links and file identity, which .NET does not expose: <c>link(2)</c> and <c>statx(2)</c> (its layout is the same on
/// every Linux architecture) on Unix, <c>CreateHardLinkW</c> on Windows. Placing a file is always atomic: link or copy to
/// a temporary name beside the destination, verify, then rename over it, so a reader never sees half a file.
/// </summary>
public static partial class FileLinks
{
    /// <summary>Where a file lives: its device and inode (Linux), and how many names it has; null where this cannot be told.</summary>
    public readonly record struct Identity(ulong Device, ulong Inode, uint Links);

    /// <summary>The device, inode and link count of a file (links followed); null off Linux or when it cannot be read.</summary>
    public static Identity? IdentityOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[256];
        unsafe
        {
            fixed (byte* b = buffer)
            {
                // AT_FDCWD, flags 0 (follow links), mask STATX_BASIC_STATS.
                if (statx(-100, path, 0, 0x7ff, b) != 0)
                {
                    return null;
                }
            }
        }

        var links = BitConverter.ToUInt32(buffer[16..]);
        var inode = BitConverter.ToUInt64(buffer[32..]);
        var devMajor = BitConverter.ToUInt32(buffer[136..]);
        var devMinor = BitConverter.ToUInt32(buffer[140..]);
        return new Identity(((ulong)devMajor << 32) | devMinor, inode, links);
    }

    /// <summary>
    /// Makes <paramref name="destination"/> a hard link of <paramref name="source"/> through a temporary name and a
    /// rename. False (nothing changed) when the two are on different file systems or the file system refuses links.
    /// </summary>
    public static bool TryLinkAtomically(string source, string destination)
    {
        var temp = TempBeside(destination);
        if (!TryLink(source, temp))
        {
            return false;
        }

        try
        {
            File.Move(temp, destination, overwrite: true);
            return true;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Copies to a temporary name beside the destination, checks the copy's SHA-256, then renames it into place.</summary>
    public static async Task CopyVerifiedAsync(string source, string destination, string expectedHex, CancellationToken cancellationToken)
    {
        var temp = TempBeside(destination);
        try
        {
            await using (var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan))
            await using (var to = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                await from.CopyToAsync(to, cancellationToken).ConfigureAwait(false);
            }

            var actual = await Sha256HexAsync(temp, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(actual, expectedHex, StringComparison.OrdinalIgnoreCase))
            {
                throw Errors.ChecksumMismatch(
                    $"The copy of '{source}' at '{destination}' hashes to sha256:{actual}, not sha256:{expectedHex}; it was deleted.",
                    destination, new Dictionary<string, object?> { ["path"] = destination, ["expected"] = "sha256:" + expectedHex, ["actual"] = "sha256:" + actual },
                    "Check the disk and try again.");
            }

            File.Move(temp, destination, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public static async Task<string> Sha256HexAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return Convert.ToHexString(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false)).ToLowerInvariant();
    }

    /// <summary>A name beside <paramref name="path"/> that no tool takes for a finished file (Ollama's own temporaries start with sha256-; these do not).</summary>
    static string TempBeside(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".modellibrary-{Guid.NewGuid():N}.tmp");

    static bool TryLink(string source, string destination)
    {
        if (OperatingSystem.IsWindows())
        {
            return CreateHardLinkW(destination, source, IntPtr.Zero);
        }

        return link(source, destination) == 0;
    }

    [LibraryImport("libc", EntryPoint = "link", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int link(string oldpath, string newpath);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int statx(int dirfd, string pathname, int flags, uint mask, byte* statxbuf);

    [LibraryImport("kernel32.dll", StringMarshalling = StringMarshalling.Utf16, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CreateHardLinkW(string fileName, string existingFileName, IntPtr securityAttributes);
}
