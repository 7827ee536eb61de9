namespace ModelLibrary.Downloads;

/// <summary>
/// One byte range of the file and how much of it is on disk. <see cref="Done"/> grows only after the bytes were
/// written, so anyone reading it (the hasher, the state file) may trust the bytes before it.
/// </summary>
internal sealed class Part
{
    long done;
    volatile bool ended;

    public Part(int index, long start, long? length, long done)
    {
        Index = index;
        Start = start;
        Length = length;
        this.done = done;
    }

    public int Index { get; }
    public long Start { get; }
    /// <summary>Null for a single stream of unknown size, until the server ends it.</summary>
    public long? Length { get; private set; }
    public long Done => Interlocked.Read(ref done);
    public long Position => Start + Done;
    public long? Remaining => Length - Done;
    public bool IsComplete => ended || (Length is { } length && Done >= length);

    public void Advance(long count) => Interlocked.Add(ref done, count);

    /// <summary>The server ended a stream of unknown size: what arrived is the whole part.</summary>
    public void EndHere()
    {
        Length = Done;
        ended = true;
    }

    /// <summary>The end of the contiguous bytes from offset 0 that are on disk.</summary>
    public static long ContiguousEnd(IReadOnlyList<Part> parts)
    {
        foreach (var part in parts)
        {
            if (!part.IsComplete)
            {
                return part.Position;
            }
        }

        return parts.Count == 0 ? 0 : parts[^1].Start + (parts[^1].Length ?? parts[^1].Done);
    }
}
