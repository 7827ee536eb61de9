namespace ModelLibrary.Formats;

/// <summary>Opening files and turning parse failures into the library's error contract, shared by every reader.</summary>
internal static class FormatIO
{
    /// <summary>
    /// Opens a file for reading without FileStream's own buffer (the readers buffer). A missing file becomes
    /// InvalidModelFile, so callers see one error for "this is not a usable model file"; other IO errors pass through.
    /// </summary>
    public static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // Before the open: opening a FIFO blocks until another process writes to it.
        FileKinds.EnsureNotSpecial(path);
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Errors.InvalidModelFile(path, "the file does not exist", ex);
        }
    }

    /// <summary>Runs a parse, reporting malformed content as <see cref="ValidationException"/> (InvalidModelFile).</summary>
    public static T Parse<T>(string source, Func<T> parse)
    {
        try
        {
            return parse();
        }
        catch (MalformedFileException ex)
        {
            throw Errors.InvalidModelFile(source, ex.Message, ex);
        }
    }

    /// <summary>Bytes from the stream's current position to its end; the readers need a bound before they start.</summary>
    public static long RemainingLength(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanRead || !stream.CanSeek) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        return stream.Length - stream.Position;
    }
}
