using System.Buffers.Binary;

namespace ModelLibrary.Formats;

/// <summary>
/// Checks that a zip archive has one reading: that miniz (which torch.load uses: it prefers the zip64 end record
/// whenever its locator is there and takes zip64 extra fields at face value), .NET's ZipArchive (which the scan uses)
/// and Python's zipfile would all find the same central directory and the same entries at the same offsets. Where they
/// could disagree (a second end record, zip64 values that differ from the plain ones, bytes between the central
/// directory and its end, extra fields that do not parse or do not match the fields they replace, two entries whose
/// names miniz's case-insensitive lookup confuses, a local header naming another file) it throws
/// <see cref="UnsafeStructureException"/>: the scanner would otherwise scan one archive while torch loads another.
/// </summary>
internal static class ZipLayout
{
    private const uint EndSignature = 0x06054b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint CentralSignature = 0x02014b50;
    private const uint LocalSignature = 0x04034b50;
    private const int EndSize = 22;
    private const int MaxComment = 0xFFFF;
    // A central directory of 64 MB holds hundreds of thousands of entries; torch archives hold a few thousand.
    private const long MaxCentralDirectory = 64L * 1024 * 1024;

    public static void Check(Stream stream, CancellationToken cancellationToken)
    {
        long origin = stream.Position;
        long length = stream.Length - origin;
        if (length < EndSize) throw new MalformedFileException("the zip archive is too short to hold its end record");

        int window = (int)Math.Min(length, EndSize + MaxComment);
        var tail = ReadAt(stream, origin + length - window, window);
        var ends = new List<int>();
        for (int i = 0; i + EndSize <= tail.Length; i++)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndSignature) ends.Add(i);
        }
        if (ends.Count == 0) throw new MalformedFileException("the zip archive has no end-of-central-directory record");
        if (ends.Count > 1)
            throw Ambiguous($"{ends.Count} end-of-central-directory signatures (one inside the comment), which zip readers pick differently");
        int e = ends[0];
        long endOffset = length - window + e;
        var end = tail.AsSpan(e, EndSize);
        ushort disk = U16(end, 4), centralDisk = U16(end, 6);
        ulong entriesOnDisk = U16(end, 8), entries = U16(end, 10);
        ulong centralSize = U32(end, 12), centralOffset = U32(end, 16);
        int commentLength = U16(end, 20);
        if (endOffset + EndSize + commentLength != length)
            throw Ambiguous($"an end record whose comment length ({commentLength}) does not reach the end of the file");

        long centralEnd = endOffset;
        // miniz reads the zip64 end record whenever its locator sits right before the end record.
        if (endOffset >= 20 && BinaryPrimitives.ReadUInt32LittleEndian(ReadAt(stream, origin + endOffset - 20, 4)) == Zip64LocatorSignature)
        {
            var locator = ReadAt(stream, origin + endOffset - 20, 20);
            ulong recordOffset = U64(locator, 8);
            if (U32(locator, 4) != 0 || U32(locator, 16) > 1 || recordOffset > (ulong)(endOffset - 20 - 56))
                throw Ambiguous("a zip64 locator that points nowhere a zip64 end record can be");
            var record = ReadAt(stream, origin + (long)recordOffset, 56);
            ulong recordSize = U64(record, 4);
            if (U32(record, 0) != Zip64EndSignature || recordSize < 44 || (ulong)recordOffset + 12 + recordSize != (ulong)(endOffset - 20))
                throw Ambiguous("a zip64 end record that is not where its locator says, or not right before it");
            ulong entries64 = U64(record, 32), entriesOnDisk64 = U64(record, 24), size64 = U64(record, 40), offset64 = U64(record, 48);
            if (U32(record, 16) != 0 || U32(record, 20) != 0
                || !Agrees(entries, entries64, 0xFFFF) || !Agrees(entriesOnDisk, entriesOnDisk64, 0xFFFF)
                || !Agrees(centralSize, size64, 0xFFFFFFFF) || !Agrees(centralOffset, offset64, 0xFFFFFFFF))
                throw Ambiguous("a zip64 end record whose central directory differs from the one the plain end record names, so miniz (torch) and other readers read different entries");
            (entries, entriesOnDisk, centralSize, centralOffset) = (entries64, entriesOnDisk64, size64, offset64);
            centralEnd = (long)recordOffset;
        }
        else if (disk != 0 || centralDisk != 0)
        {
            throw new MalformedFileException("the zip archive spans several disks");
        }
        if (entries != entriesOnDisk) throw new MalformedFileException("the zip archive spans several disks");
        if (centralOffset > (ulong)centralEnd || centralSize > (ulong)centralEnd || centralOffset + centralSize != (ulong)centralEnd)
            throw Ambiguous("a central directory that does not end where its end record starts, so readers that search for it find another");
        if ((long)centralSize > MaxCentralDirectory) throw new MalformedFileException($"the zip central directory is {centralSize} bytes, over the limit of {MaxCentralDirectory}");

        var central = ReadAt(stream, origin + (long)centralOffset, (int)centralSize);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        int pos = 0;
        for (ulong i = 0; i < entries; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (pos + 46 > central.Length || U32(central, pos) != CentralSignature)
                throw Ambiguous($"a central directory that holds fewer than the {entries} entries its end record counts");
            var header = central.AsSpan(pos, 46);
            ushort flags = U16(header, 8), method = U16(header, 10);
            ulong compressed = U32(header, 20), uncompressed = U32(header, 24);
            int nameLength = U16(header, 28), extraLength = U16(header, 30), entryCommentLength = U16(header, 32);
            ulong startDisk = U16(header, 34);
            ulong localOffset = U32(header, 42);
            if (pos + 46 + nameLength + extraLength + entryCommentLength > central.Length)
                throw Ambiguous("a central directory entry that runs past the directory's end");
            var nameBytes = central.AsSpan(pos + 46, nameLength).ToArray();
            var extra = central.AsSpan(pos + 46 + nameLength, extraLength);
            string name = System.Text.Encoding.Latin1.GetString(nameBytes);
            if ((flags & 1) != 0) throw new MalformedFileException($"zip entry '{name}' is encrypted");

            bool needs64 = compressed == 0xFFFFFFFF || uncompressed == 0xFFFFFFFF || localOffset == 0xFFFFFFFF || startDisk == 0xFFFF;
            bool seen64 = false;
            int x = 0;
            while (x < extra.Length)
            {
                if (x + 4 > extra.Length) throw Ambiguous($"zip entry '{name}' has extra fields that do not parse");
                ushort id = U16(extra, x), size = U16(extra, x + 2);
                if (x + 4 + size > extra.Length) throw Ambiguous($"zip entry '{name}' has extra fields that do not parse");
                if (id == 0x0001)
                {
                    if (seen64) throw Ambiguous($"zip entry '{name}' has two zip64 extra fields");
                    seen64 = true;
                    // The standard order, one 8-byte value per field that holds the 0xFFFFFFFF marker; a field of any
                    // other length is read differently by readers that take values from fixed places.
                    int expected = (uncompressed == 0xFFFFFFFF ? 8 : 0) + (compressed == 0xFFFFFFFF ? 8 : 0) + (localOffset == 0xFFFFFFFF ? 8 : 0) + (startDisk == 0xFFFF ? 4 : 0);
                    if (size != expected)
                        throw Ambiguous($"zip entry '{name}' has a zip64 extra field of {size} bytes where its markers call for {expected}");
                    var data = extra.Slice(x + 4, size);
                    int d = 0;
                    if (uncompressed == 0xFFFFFFFF) { uncompressed = U64(data, d); d += 8; }
                    if (compressed == 0xFFFFFFFF) { compressed = U64(data, d); d += 8; }
                    if (localOffset == 0xFFFFFFFF) { localOffset = U64(data, d); d += 8; }
                    if (startDisk == 0xFFFF) startDisk = U32(data, d);
                }
                x += 4 + size;
            }
            if (needs64 && !seen64) throw Ambiguous($"zip entry '{name}' marks its sizes or offset as zip64 but has no zip64 extra field");
            if (startDisk != 0) throw new MalformedFileException("the zip archive spans several disks");
            if (!names.Add(name))
                throw Ambiguous($"two entries named '{name}' (miniz, which torch uses, looks names up ignoring case and may pick either)");

            // The local header must name the same file: Python's zipfile refuses a mismatch, miniz reads the data regardless.
            if (localOffset > (ulong)centralOffset || localOffset + 30 > (ulong)centralOffset)
                throw Ambiguous($"zip entry '{name}' has a local header outside the archive's data");
            var local = ReadAt(stream, origin + (long)localOffset, 30);
            int localName = U16(local, 26), localExtra = U16(local, 28);
            if (U32(local, 0) != LocalSignature || U16(local, 8) != method || localOffset + 30 + (ulong)localName > (ulong)centralOffset
                || !ReadAt(stream, origin + (long)localOffset + 30, localName).AsSpan().SequenceEqual(nameBytes))
                throw Ambiguous($"zip entry '{name}' has a local header that names another file or method");
            ulong dataStart = localOffset + 30 + (ulong)localName + (ulong)localExtra;
            if (dataStart > (ulong)centralOffset || compressed > (ulong)centralOffset - dataStart)
                throw Ambiguous($"zip entry '{name}' has data that runs into the central directory");
            pos += 46 + nameLength + extraLength + entryCommentLength;
        }
        if (pos != central.Length)
            throw Ambiguous($"a central directory with bytes after the {entries} entries its end record counts");
    }

    private static bool Agrees(ulong plain, ulong zip64, ulong marker) => plain == zip64 || plain == marker;

    private static UnsafeStructureException Ambiguous(string what) => new($"the zip archive has {what}");

    private static byte[] ReadAt(Stream stream, long offset, int count)
    {
        if (offset < 0 || offset + count > stream.Length) throw new UnsafeStructureException("the zip archive has a record outside the file");
        var buffer = new byte[count];
        stream.Position = offset;
        stream.ReadExactly(buffer);
        return buffer;
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
    private static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
    private static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b[at..]);
}
