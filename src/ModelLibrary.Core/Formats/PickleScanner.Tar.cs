using System.Formats.Tar;

namespace ModelLibrary.Formats;

/// <summary>
/// The tar format of torch's first releases (torch.save before 0.4 wrote it; torch.load still reads it). Its members:
/// <c>sys_info</c> and <c>pickle</c> are plain pickles (the object, with tensors as persistent ids); <c>storages</c> is
/// a pickled count, then per storage a pickled <c>(key, location, storage_type)</c> followed by an int64 element count
/// and the raw elements, then a pickled list of views; <c>tensors</c> is a pickled count, then per tensor a pickled
/// <c>(key, storage_id, tensor_type)</c> followed by int64 ndim, ndim int64 sizes, ndim int64 strides and an int64
/// offset. torch.load unpickles every one of those pickles, so the walk follows that layout to reach them all, and
/// counts the tensors from their sizes. Numbers are read as little-endian: a file written on a big-endian machine does
/// not follow and is reported invalid, never safe.
/// </summary>
public static partial class PickleScanner
{
    internal const int TarBlockSize = 512;

    // Tensors in torch have at most a few dozen dimensions; more is kept as "count unknown", not read.
    private const int MaxTensorDimensions = 64;

    /// <summary>
    /// True when the first block is a tar header: its checksum field matches the sum of its bytes (the field itself
    /// counted as spaces), which is how Python's tarfile, and so torch.load, tells a tar apart. The ustar magic is not
    /// required, since tarfile reads the older v7 headers too.
    /// </summary>
    internal static bool IsTar(ReadOnlySpan<byte> start)
    {
        if (start.Length < TarBlockSize || start[0] == 0) return false;
        var header = start[..TarBlockSize];
        var field = header.Slice(148, 8);
        int digits = field.IndexOfAnyExcept((byte)' ');
        if (digits < 0) return false;
        long stored = 0;
        int count = 0;
        for (int i = digits; i < field.Length && field[i] is >= (byte)'0' and <= (byte)'7'; i++, count++) stored = stored * 8 + (field[i] - '0');
        if (count == 0) return false;
        long unsigned = 8 * ' ', signed = 8 * ' ';
        for (int i = 0; i < TarBlockSize; i++)
        {
            if (i is >= 148 and < 156) continue;
            unsigned += header[i];
            signed += (sbyte)header[i];
        }
        return stored == unsigned || stored == signed;
    }

    /// <summary>True when the tar archive has a <c>pickle</c> member, the one torch.load unpickles into the object.</summary>
    /// <exception cref="ValidationException">InvalidModelFile: the archive's headers are corrupt.</exception>
    internal static bool IsTorchTar(Stream stream, string sourceName) => FormatIO.Parse(sourceName, () =>
    {
        foreach (var member in TarMembers(stream, CancellationToken.None))
        {
            if (member.Name == "pickle") return true;
        }
        return false;
    });

    private static PickleScanResult ScanTar(Stream stream, string source, CancellationToken cancellationToken)
    {
        var globals = new GlobalCollector();
        var tensors = new TorchTensorTally();
        var streams = new List<PickleStreamResult>();
        bool sawPickle = false;
        foreach (var member in TarMembers(stream, cancellationToken))
        {
            var reader = new BoundedReader(member.Data, member.Length);
            switch (member.Name)
            {
                case "sys_info":
                case "pickle":
                    if (member.Length > MaxZipEntryLength)
                        throw new MalformedFileException($"tar member '{member.Name}' is {member.Length} bytes, over the limit of {MaxZipEntryLength}");
                    sawPickle |= member.Name == "pickle";
                    streams.Add(new Walker(reader, member.Name, globals, tensors, cancellationToken, "tar member").WalkStream());
                    break;
                // The pickles of these members are tiny descriptions; their stack machine only reads the values back
                // (its own tally, since these pickles rebuild no tensors).
                case "storages":
                    // The views pickle follows the storages: (view key, root key, offset, size) tuples, data only.
                    streams.Add(WalkCountedRecords(new Walker(reader, member.Name, globals, new TorchTensorTally(), cancellationToken, "tar member"),
                        reader, member.Name, trailingPickles: 1, (i, description) => SkipStorageData(i, description, reader), cancellationToken));
                    break;
                case "tensors":
                    streams.Add(WalkCountedRecords(new Walker(reader, member.Name, globals, new TorchTensorTally(), cancellationToken, "tar member"),
                        reader, member.Name, trailingPickles: 0, (i, description) => ReadTensorSizes(i, description, reader, tensors), cancellationToken));
                    break;
                    // torch.load reads no other member.
            }
        }
        if (!sawPickle) throw new MalformedFileException("the tar archive holds no 'pickle' member, so it is not a torch checkpoint");
        return new PickleScanResult(source, PickleContainer.LegacyTar, streams, globals.Items, tensors.Summarize());
    }

    /// <summary>
    /// The shape both data members share: a pickled count, then per record a pickled description followed by raw bytes
    /// that <paramref name="readRecordData"/> reads or steps over, then <paramref name="trailingPickles"/> more pickles.
    /// </summary>
    private static PickleStreamResult WalkCountedRecords(Walker walker, BoundedReader reader, string member, int trailingPickles,
        Action<long, PickleValue?> readRecordData, CancellationToken cancellationToken)
    {
        try
        {
            int protocol = walker.WalkOne();
            long count = walker.LastValue is IntValue { Value: >= 0 } counted
                ? counted.Value
                : throw new MalformedFileException($"the {member} member does not start with a pickled count");
            for (long i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                walker.WalkOne();
                readRecordData(i, walker.LastValue);
            }
            for (int i = 0; i < trailingPickles; i++) walker.WalkOne();
            return Walked(member, count + 1 + trailingPickles, protocol, reader);
        }
        catch (MalformedFileException ex)
        {
            throw walker.Failure("its pickles and the data between them cannot be followed", ex);
        }
    }

    /// <summary>
    /// After a storage's pickled (key, location, storage_type): an int64 element count and the elements. The element
    /// size says how far the data reaches; without it the pickles after it cannot be found.
    /// </summary>
    private static void SkipStorageData(long index, PickleValue? description, BoundedReader reader)
    {
        if (description is not TupleValue { Items.Length: 3 } args
            || args.Items[2] is not GlobalValue storageType
            || !TorchScalarTypes.TryGet(storageType.Module, storageType.Name, out _, out int elementSize))
            throw new MalformedFileException($"storage {index} is not described as (key, location, torch storage type)", reader.Position);
        long elements = reader.ReadInt64();
        if (elements < 0 || elements > reader.Remaining / elementSize)
            throw new MalformedFileException($"storage {index} claims {elements} elements of {elementSize} bytes, more than the member holds", reader.Position);
        reader.Skip(elements * elementSize, $"storage {index}");
    }

    /// <summary>After a tensor's pickled (key, storage_id, tensor_type): ndim, the sizes (counted), the strides and the offset.</summary>
    private static void ReadTensorSizes(long index, PickleValue? description, BoundedReader reader, TorchTensorTally tensors)
    {
        var args = description as TupleValue;
        string identity = "tensors:" + (args is { Items.Length: 3 } && PickleStackMachine.KeyText(args.Items[0]) is { } key ? key : $"#{index}");
        string? dtype = args is { Items.Length: 3 } && args.Items[2] is GlobalValue tensorType
            && TorchScalarTypes.TryGet(tensorType.Module, tensorType.Name, out var name, out _) ? name : null;

        // ndim was written as 8 bytes and is read back as an int32 and 4 ignored bytes.
        int dimensions = reader.ReadInt32();
        reader.Skip(4, "the rest of ndim");
        if (dimensions < 0) throw new MalformedFileException($"tensor {index} has {dimensions} dimensions", reader.Position);
        reader.CheckLength(16L * dimensions + 8, long.MaxValue, $"tensor {index}'s sizes, strides and offset");
        if (dimensions > MaxTensorDimensions)
        {
            tensors.MarkUnknown($"tar member 'tensors': tensor {index} has {dimensions} dimensions");
            reader.Skip(16L * dimensions + 8, $"tensor {index}'s sizes, strides and offset");
            return;
        }
        long elements = 1;
        bool known = true;
        for (int d = 0; d < dimensions; d++)
        {
            long size = reader.ReadInt64();
            if (size < 0 || (size != 0 && elements > long.MaxValue / size)) known = false;
            else elements *= size;
        }
        reader.Skip(8L * dimensions + 8, $"tensor {index}'s strides and offset");
        if (known) tensors.Add(identity, elements, dtype);
        else tensors.MarkUnknown($"tar member 'tensors': tensor {index} has a size that is negative or too large");
    }

    private static PickleStreamResult Walked(string member, long pickles, int protocol, BoundedReader reader) =>
        new(member, (int)Math.Min(pickles, int.MaxValue), protocol, reader.Length,
            reader.Remaining > 0 ? reader.Position : null,
            reader.Remaining > 0 ? "torch.load reads no further than the layout of the member" : null);

    private sealed record TarMember(string Name, Stream Data, long Length);

    /// <summary>
    /// The archive's regular files, named as torch.load looks them up (tarfile normalises "./pickle" to "pickle"); a
    /// corrupt header is <see cref="MalformedFileException"/>. Each member's data is valid until the next is read.
    /// </summary>
    private static IEnumerable<TarMember> TarMembers(Stream stream, CancellationToken cancellationToken)
    {
        using var tar = new TarReader(stream, leaveOpen: true);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            TarEntry? entry;
            try
            {
                entry = tar.GetNextEntry(copyData: false);
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException or ArgumentException or OverflowException)
            {
                throw new MalformedFileException($"the tar archive is corrupt: {ex.Message}", null, ex);
            }
            if (entry is null) yield break;
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
            yield return new TarMember(NormalizeMemberName(entry.Name), entry.DataStream ?? Stream.Null, entry.DataStream is null ? 0 : entry.Length);
        }
    }

    /// <summary>What Python's os.path.normpath makes of a member name: no "." segments, ".." applied, no empty segments.</summary>
    private static string NormalizeMemberName(string name)
    {
        var segments = new List<string>();
        foreach (var segment in name.Replace('\\', '/').Split('/'))
        {
            if (segment is "" or ".") continue;
            if (segment == ".." && segments.Count > 0 && segments[^1] != "..") segments.RemoveAt(segments.Count - 1);
            else segments.Add(segment);
        }
        return string.Join('/', segments);
    }
}
