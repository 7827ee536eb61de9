namespace ModelLibrary.Downloads;

/// <summary>
/// One byte range of the file and how much of it is on disk. <see cref="Done"/> grows only after the bytes were
/// written, so anyone reading it (the hasher, the state file) may trust the bytes before it. A part's end may move
/// closer when <see cref="PartList"/> splits it for a connection that ran out of work; it never moves below what its
/// own connection may still be reading (see <see cref="PartList.TrySteal"/>).
/// </summary>
internal sealed class Part
{
    const long Unknown = -1;

    long done;
    long length;
    volatile bool ended;

    public Part(int index, long start, long? length, long done)
    {
        Index = index;
        Start = start;
        this.length = length ?? Unknown;
        this.done = done;
    }

    public int Index { get; }
    public long Start { get; }
    /// <summary>Null for a single stream of unknown size, until the server ends it.</summary>
    public long? Length => Interlocked.Read(ref length) is var l && l == Unknown ? null : l;
    public long Done => Interlocked.Read(ref done);
    public long Position => Start + Done;
    public long? Remaining => Length - Done;
    public long? End => Start + Length;
    public bool IsComplete => ended || (Length is { } l && Done >= l);

    /// <summary>Which source (index into the download's sources) this part's connection fetches from; -1 none yet.</summary>
    public int Source { get; set; } = -1;

    /// <summary>A connection is working on it (set and cleared under <see cref="PartList"/>'s lock).</summary>
    internal bool Owned { get; set; }

    public void Advance(long count) => Interlocked.Add(ref done, count);

    /// <summary>Moves the end to <paramref name="newLength"/> bytes from the start (a split gave the rest away).</summary>
    internal void ShrinkTo(long newLength) => Interlocked.Exchange(ref length, newLength);

    /// <summary>The server ended a stream of unknown size: what arrived is the whole part.</summary>
    public void EndHere()
    {
        Interlocked.Exchange(ref length, Done);
        ended = true;
    }

    /// <summary>The end of the contiguous bytes from offset 0 that are on disk (parts in file order).</summary>
    public static long ContiguousEnd(IReadOnlyList<Part> parts)
    {
        Part? last = null;
        foreach (var part in parts)
        {
            if (!part.IsComplete)
            {
                return part.Position;
            }

            last = part;
        }

        return last is null ? 0 : last.Start + (last.Length ?? last.Done);
    }
}
