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
    /// True when Python's tarfile would open the file (its first header parses and its checksum matches, written in any
    /// of the forms tarfile reads): torch.load then reads it as a legacy tar, and otherwise as a raw pickle.
    /// </summary>
    internal static bool IsTar(ReadOnlySpan<byte> start) => TarLayout.IsHeader(start);

    // The members torch.load's legacy_load reads (sys_info is written but not read; it is scanned all the same).
    private static readonly string[] TorchTarMembers = { "sys_info", "pickle", "storages", "tensors" };

    /// <summary>
    /// True when the tar archive has a torch member, or could be read in more than one way (the scan then refuses it);
    /// null when tarfile fails on it, so that torch.load reads it as a raw pickle (only a scan tells whether it is one).
    /// </summary>
    /// <exception cref="ValidationException">InvalidModelFile: the archive's headers are corrupt.</exception>
    internal static bool? IsTorchTar(Stream stream, string sourceName) => FormatIO.Parse<bool?>(sourceName, () =>
    {
        var layout = TarLayout.Read(stream, CancellationToken.None);
        if (layout.FallsBackToRaw) return null;
        return layout.Ambiguity is not null || layout.Members.Any(m => TorchTarMembers.Contains(NormalizeMemberName(m.Name)));
    });

    /// <summary>
    /// Scans the members torch.load's legacy_load reads; false when tarfile would raise a TarError on the way (a member
    /// or header past the end of the file), which torch.load answers by reading the whole file as a raw pickle.
    /// </summary>
    private static bool ScanTar(Stream stream, ScanState state, CancellationToken cancellationToken)
    {
        long origin = stream.Position;
        long fileLength = stream.Length - origin;
        var layout = TarLayout.Read(stream, cancellationToken);
        if (layout.FallsBackToRaw) return false;
        if (layout.Ambiguity is string ambiguity) throw new UnsafeStructureException($"the tar archive holds {ambiguity}");

        // tarfile's getmember returns the last member of a name and extractfile follows links and reads any type as a
        // file: a second member of a name, a link or an odd type is where the scan and torch.load could part ways.
        var torchMembers = layout.Members.Where(m => TorchTarMembers.Contains(NormalizeMemberName(m.Name))).ToList();
        foreach (var group in torchMembers.GroupBy(m => NormalizeMemberName(m.Name)))
        {
            if (group.Count() > 1)
                throw new UnsafeStructureException($"the tar archive holds {group.Count()} members named '{group.Key}'; tarfile reads the last of them");
            var member = group.Single();
            if (!member.IsPlainFile)
                throw new UnsafeStructureException($"the tar archive's '{group.Key}' member is not a plain file (type '{(member.Type == '\0' ? "\\0" : member.Type.ToString())}'{(member.LinkName.Length > 0 ? $", linking to '{member.LinkName}'" : "")}), which tarfile reads some other way");
            // Reading it raises ReadError, after the unpickler has run what came before the end.
            if (member.DataOffset + member.Size > fileLength)
            {
                ScanWhatIsThere(stream, origin, fileLength, torchMembers, state, cancellationToken);
                return false;
            }
        }
        if (!torchMembers.Any(m => NormalizeMemberName(m.Name) == "pickle"))
            throw new MalformedFileException("the tar archive holds no 'pickle' member, so it is not a torch checkpoint");
        // legacy_load extracts 'storages' and 'tensors' before it reads 'pickle'; without them it fails (KeyError).
        if (TorchTarMembers.Skip(2).FirstOrDefault(required => !torchMembers.Any(m => NormalizeMemberName(m.Name) == required)) is string missing)
            throw new MalformedFileException($"the tar archive holds no '{missing}' member, which torch.load reads before the object");

        foreach (var member in torchMembers)
        {
            string name = NormalizeMemberName(member.Name);
            stream.Position = origin + member.DataOffset;
            var reader = new BoundedReader(stream, member.Size);
            switch (name)
            {
                case "sys_info":
                case "pickle":
                    if (member.Size > MaxZipEntryLength)
                        throw new MalformedFileException($"tar member '{name}' is {member.Size} bytes, over the limit of {MaxZipEntryLength}");
                    state.Streams.Add(new Walker(reader, name, state.Globals, state.Tensors, cancellationToken, "tar member").WalkStream());
                    break;
                // The pickles of these members are tiny descriptions; their stack machine only reads the values back
                // (its own tally, since these pickles rebuild no tensors).
                case "storages":
                    // The views pickle follows the storages: (view key, root key, offset, size) tuples, data only.
                    state.Streams.Add(WalkCountedRecords(new Walker(reader, name, state.Globals, new TorchTensorTally(), cancellationToken, "tar member"),
                        reader, name, trailingPickles: 1, (i, description) => SkipStorageData(i, description, reader), cancellationToken));
                    break;
                case "tensors":
                    state.Streams.Add(WalkCountedRecords(new Walker(reader, name, state.Globals, new TorchTensorTally(), cancellationToken, "tar member"),
                        reader, name, trailingPickles: 0, (i, description) => ReadTensorSizes(i, description, reader, state.Tensors), cancellationToken));
                    break;
            }
        }
        return true;
    }

    /// <summary>
    /// The bytes of torch's members that are in the file, walked for their imports only: torch.load unpickles them until
    /// tarfile's ReadError sends it to the raw reading, and whatever it ran on the way counts.
    /// </summary>
    private static void ScanWhatIsThere(Stream stream, long origin, long fileLength, List<TarLayout.Member> members, ScanState state, CancellationToken cancellationToken)
    {
        foreach (var member in members)
        {
            long available = Math.Clamp(fileLength - member.DataOffset, 0, member.Size);
            stream.Position = origin + member.DataOffset;
            var walker = new Walker(new BoundedReader(stream, available), NormalizeMemberName(member.Name), state.Globals, null, cancellationToken, "tar member");
            try
            {
                while (true) walker.WalkOne();
            }
            catch (MalformedFileException)
            {
                // The end of what is there; the imports met before it are kept.
            }
        }
        state.Tensors.MarkUnknown("the tar archive is cut short");
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
