namespace ModelLibrary.Formats;

/// <summary>
/// Raised inside the format readers when the bytes break the format's rules. The public entry points catch it and
/// rethrow <see cref="ValidationException"/> (ErrorId InvalidModelFile) naming the file, so parsing code stays
/// independent of paths and of the error contract.
/// </summary>
internal sealed class MalformedFileException : Exception
{
    public MalformedFileException(string reason, long? offset = null, Exception? inner = null)
        : base(offset is null ? reason : $"{reason} (at byte {offset})", inner)
    {
        Reason = reason;
        Offset = offset;
    }

    public string Reason { get; }
    public long? Offset { get; }
}

/// <summary>
/// Raised inside the pickle scan when the bytes could be read two ways (two readers of a container disagree, or a pickle
/// torch.load unpickles cannot be followed). The scan turns it into an unsafe verdict, never into "invalid" or "safe".
/// </summary>
internal sealed class UnsafeStructureException(string reason) : Exception(reason);
