using System.Collections;

namespace ModelLibrary.Downloads;

/// <summary>
/// The parts of one file in file order, and who works on which. A connection asks for work with <see cref="Take"/>:
/// the first part nobody works on, cut to at most one chunk so the parts are fetched roughly in file order (the
/// hash follows the contiguous prefix); when every byte is someone's, it splits the largest remaining range of a
/// busy connection in two and takes the back half (work stealing, as aria2 and IDM do), so every connection
/// works until the end and no fixed part size limits how many connections a small file can use.
/// </summary>
/// <remarks>
/// Readers (hasher, progress, state file) enumerate a snapshot without locking. A split publishes the new part
/// before the old one's end moves, so the contiguous end never passes bytes that are not on disk.
/// </remarks>
internal sealed class PartList : IReadOnlyList<Part>
{
    readonly object gate = new();
    readonly long chunkSize;
    readonly long minSplit;
    readonly long inFlight;
    volatile Part[] parts;
    int nextIndex;

    /// <param name="parts">The parts in file order.</param>
    /// <param name="chunkSize">Most bytes a connection takes from unclaimed parts at once.</param>
    /// <param name="minSplit">Smallest part a split may leave on either side.</param>
    /// <param name="inFlight">Most bytes a busy connection may be reading past its position (its receive buffer).</param>
    public PartList(IEnumerable<Part> parts, long chunkSize, long minSplit, long inFlight)
    {
        this.parts = parts.ToArray();
        this.chunkSize = Math.Clamp(chunkSize, 1, long.MaxValue / 4);
        this.minSplit = Math.Clamp(minSplit, 1, long.MaxValue / 4);
        this.inFlight = inFlight;
        nextIndex = this.parts.Length == 0 ? 0 : this.parts.Max(p => p.Index) + 1;
    }

    public Part[] Snapshot => parts;
    public int Count => parts.Length;
    public Part this[int index] => parts[index];
    public IEnumerator<Part> GetEnumerator() => ((IEnumerable<Part>)parts).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public long Downloaded => parts.Sum(p => p.Done);

    /// <summary>Parts splits made so far (for reports and tests).</summary>
    public int Steals { get; private set; }

    /// <summary>
    /// The parts as the resume state keeps them. A part whose split is under way (the new part listed, the old
    /// one's end not yet moved) is saved ending where the next begins, so saved parts never overlap.
    /// </summary>
    public static List<SavedPart> ToSaved(IReadOnlyList<Part> parts)
    {
        var snapshot = parts is PartList list ? list.Snapshot : parts.ToArray();
        var saved = new List<SavedPart>(snapshot.Length);
        for (var i = 0; i < snapshot.Length; i++)
        {
            var part = snapshot[i];
            var length = part.Length is { } l && i + 1 < snapshot.Length ? Math.Min(l, snapshot[i + 1].Start - part.Start) : part.Length;
            saved.Add(new SavedPart(part.Start, length, Math.Min(part.Done, length ?? long.MaxValue)));
        }

        return saved;
    }

    /// <summary>Work for a connection that has none, or null when nothing is left that is worth splitting.</summary>
    public Part? Take()
    {
        lock (gate)
        {
            foreach (var part in parts)
            {
                if (!part.Owned && !part.IsComplete)
                {
                    // Cut a chunk off the front; the rest stays unclaimed for the next connection.
                    if (part.Remaining is { } remaining && remaining >= chunkSize + minSplit)
                    {
                        Split(part, part.Position + chunkSize);
                    }

                    part.Owned = true;
                    return part;
                }
            }

            return Steal();
        }
    }

    /// <summary>The connection is done with <paramref name="part"/> (finished, or gave it back for another to continue).</summary>
    public void Release(Part part)
    {
        lock (gate)
        {
            part.Owned = false;
        }
    }

    /// <summary>True when some part has bytes left that no connection works on, or that a split could hand out.</summary>
    public bool HasWorkForAnother()
    {
        lock (gate)
        {
            return parts.Any(p => !p.IsComplete && (!p.Owned || StealPoint(p) is not null));
        }
    }

    Part? Steal()
    {
        Part? victim = null;
        long at = 0;
        foreach (var part in parts)
        {
            if (part.Owned && StealPoint(part) is { } point && (victim is null || part.Remaining > victim.Remaining))
            {
                victim = part;
                at = point;
            }
        }

        if (victim is null)
        {
            return null;
        }

        var stolen = Split(victim, at);
        stolen.Owned = true;
        stolen.Source = -1;
        Steals++;
        return stolen;
    }

    /// <summary>Where a busy part would be split: the middle of what is left beyond its connection's receive buffer.</summary>
    long? StealPoint(Part part)
    {
        if (part.Remaining is not { } remaining || part.End is not { } end)
        {
            return null;
        }

        // Its connection may be reading up to inFlight bytes past Position right now: never cut inside that.
        var free = end - (part.Position + inFlight);
        if (free < 2 * minSplit)
        {
            return null;
        }

        return end - free / 2;
    }

    /// <summary>Cuts <paramref name="part"/> at <paramref name="at"/>; the new part (from there to its end) is returned.</summary>
    Part Split(Part part, long at)
    {
        var end = part.End!.Value;
        var tail = new Part(nextIndex++, at, end - at, 0);
        var list = parts.ToList();
        list.Insert(list.IndexOf(part) + 1, tail);
        // Publish first, shrink second: a reader never sees the old part complete before the new one is listed.
        parts = list.ToArray();
        part.ShrinkTo(at - part.Start);
        return tail;
    }
}
