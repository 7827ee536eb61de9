using System.Runtime.InteropServices;

namespace ModelLibrary.Sources.Stores;

/// <summary>
/// Hard links and file identity, which .NET does not expose, one way per system behind one interface: Linux
/// <c>statx(2)</c> (its layout is the same on every architecture) and <c>link(2)</c>; macOS <c>stat(2)</c> from libc
/// with the 64-bit-inode <c>struct stat</c> and <c>link(2)</c>; Windows <c>GetFileInformationByHandle</c> (volume serial
/// number and file index) and <c>CreateHardLinkW</c>. Only the Linux way runs in this project's tests; the macOS and
/// Windows ways are compiled everywhere but untested here. Placing a file is always atomic: link or copy to a temporary
/// name beside the destination, verify, then rename over it, so a reader never sees half a file.
/// </summary>
public static partial class FileLinks
{
    /// <summary>Where a file lives: its device (Windows: volume serial number) and inode (Windows: file index), and how many names it has.</summary>
    public readonly record struct Identity(ulong Device, ulong Inode, uint Links);

    /// <summary>True on the systems whose file identity this class reads (Linux, macOS, Windows).</summary>
    public static bool CanTellIdentity => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsWindows();

    /// <summary>The device, inode and link count of a file (links followed); null on other systems or when it cannot be read.</summary>
    public static Identity? IdentityOf(string path)
    {
        try
        {
            return OperatingSystem.IsLinux() ? LinuxIdentity(path)
                : OperatingSystem.IsMacOS() ? MacIdentity(path)
                : OperatingSystem.IsWindows() ? WindowsIdentity(path)
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    static Identity? LinuxIdentity(string path)
    {
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

        // struct statx: stx_nlink at 16, stx_ino at 32, stx_dev_major and stx_dev_minor at 136 and 140.
        var links = BitConverter.ToUInt32(buffer[16..]);
        var inode = BitConverter.ToUInt64(buffer[32..]);
        var devMajor = BitConverter.ToUInt32(buffer[136..]);
        var devMinor = BitConverter.ToUInt32(buffer[140..]);
        return new Identity(((ulong)devMajor << 32) | devMinor, inode, links);
    }

    /// <summary>
    /// macOS <c>stat(2)</c>, links followed, with the 64-bit-inode <c>struct stat</c> (sys/stat.h, __DARWIN_64_BIT_INO_T,
    /// 144 bytes): <c>st_dev</c> int32 at 0, <c>st_mode</c> uint16 at 4, <c>st_nlink</c> uint16 at 6, <c>st_ino</c> uint64 at 8.
    /// On Intel Macs libc's plain <c>stat</c> is the old 32-bit-inode one, so the <c>stat$INODE64</c> entry point is called
    /// there; Apple silicon has only the 64-bit one, named <c>stat</c>.
    /// </summary>
    static Identity? MacIdentity(string path)
    {
        Span<byte> buffer = stackalloc byte[144];
        unsafe
        {
            fixed (byte* b = buffer)
            {
                var rc = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? mac_stat_inode64(path, b) : mac_stat(path, b);
                if (rc != 0)
                {
                    return null;
                }
            }
        }

        return DecodeDarwinStat(buffer);
    }

    /// <summary>The identity in a macOS 64-bit-inode <c>struct stat</c> (layout in <see cref="MacIdentity"/>).</summary>
    internal static Identity DecodeDarwinStat(ReadOnlySpan<byte> stat) =>
        new((uint)BitConverter.ToInt32(stat), BitConverter.ToUInt64(stat[8..]), BitConverter.ToUInt16(stat[6..]));

    /// <summary>
    /// Windows <c>GetFileInformationByHandle</c> on the file opened for reading (links followed), BY_HANDLE_FILE_INFORMATION
    /// (52 bytes): <c>dwVolumeSerialNumber</c> at 28, <c>nNumberOfLinks</c> at 40, <c>nFileIndexHigh</c>/<c>Low</c> at 44 and 48.
    /// A folder cannot be opened this way; only files are asked about.
    /// </summary>
    static Identity? WindowsIdentity(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> info = stackalloc byte[52];
        unsafe
        {
            fixed (byte* b = info)
            {
                if (!GetFileInformationByHandle(handle, b))
                {
                    return null;
                }
            }
        }

        return DecodeWindowsFileInformation(info);
    }

    /// <summary>The identity in a Windows BY_HANDLE_FILE_INFORMATION (layout in <see cref="WindowsIdentity"/>).</summary>
    internal static Identity DecodeWindowsFileInformation(ReadOnlySpan<byte> info) =>
        new(BitConverter.ToUInt32(info[28..]), ((ulong)BitConverter.ToUInt32(info[44..]) << 32) | BitConverter.ToUInt32(info[48..]), BitConverter.ToUInt32(info[40..]));

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

            var actual = await Sha256Checksum.HexOfFileAsync(temp, cancellationToken).ConfigureAwait(false);
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

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int mac_stat(string path, byte* buf);

    [LibraryImport("libc", EntryPoint = "stat$INODE64", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static unsafe partial int mac_stat_inode64(string path, byte* buf);

    [LibraryImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static unsafe partial bool GetFileInformationByHandle(Microsoft.Win32.SafeHandles.SafeFileHandle file, byte* information);

    [LibraryImport("kernel32.dll", StringMarshalling = StringMarshalling.Utf16, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static partial bool CreateHardLinkW(string fileName, string existingFileName, IntPtr securityAttributes);
}
