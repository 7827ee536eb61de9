using System.Runtime.InteropServices;

namespace ModelLibrary;

/// <summary>
/// What a path on disk really is, following symbolic links: the Hugging Face cache, for one, is all links into
/// <c>blobs/</c>, and .NET's <see cref="FileInfo.Length"/> of a link is the length of the link's own text. Anything
/// that is not a regular file (a FIFO, a socket, a device) is refused before it is opened: opening a FIFO blocks
/// until some other process writes to it, and a device never ends.
/// </summary>
public static class FileKinds
{
    /// <summary>
    /// The file a path leads to, links followed to the end (the path itself when it is no link); null when a link
    /// leads nowhere.
    /// </summary>
    public static FileInfo? Target(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null)
        {
            return info.Exists ? info : null;
        }

        try
        {
            return info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo is { Exists: true } target ? target : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Bytes of the file a path leads to (0 when it leads nowhere).</summary>
    public static long Length(string path) => Target(path)?.Length ?? 0;

    /// <summary>Bytes of a file found by enumeration, the link followed when it is one.</summary>
    public static long Length(FileInfo file) => file.LinkTarget is null ? file.Length : Length(file.FullName);

    /// <summary>
    /// What the path is when it is neither a regular file nor a folder (links followed): "a FIFO (named pipe)",
    /// "a socket", "a character device", "a block device"; null otherwise, and where the platform cannot tell.
    /// </summary>
    public static string? SpecialKind(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        int mode;
        try
        {
            var status = new StatusBuffer();
            if (SystemNativeStat(path, ref status) != 0)
            {
                return null;
            }

            mode = status.Mode;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }

        return (mode & 0xF000) switch
        {
            0x1000 => "a FIFO (named pipe)",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => null,
        };
    }

    /// <summary>Refuses at once (InvalidModelFile) a path that is not a regular file or folder, before anything opens it.</summary>
    public static void EnsureNotSpecial(string path)
    {
        if (SpecialKind(path) is { } kind)
        {
            throw Errors.InvalidModelFile(path, $"it is {kind}, not a regular file; a model file must be a regular file or a link to one");
        }
    }

    // The runtime's own portable stat (libSystem.Native ships with every .NET on Unix): its FileStatus struct is the
    // same on every platform, with the type bits of st_mode in the second int. The buffer is larger than the struct.
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    struct StatusBuffer
    {
        public int Flags;
        public int Mode;
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat", CharSet = CharSet.Ansi)]
    static extern int SystemNativeStat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref StatusBuffer status);
}
