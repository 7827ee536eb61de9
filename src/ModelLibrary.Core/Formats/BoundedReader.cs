using System.Buffers.Binary;

namespace ModelLibrary.Formats;

/// <summary>
/// Buffered forward reader over a stream that never reads past a known length. Every length a file declares is
/// checked against <see cref="Remaining"/> before anything is allocated, so a hostile length fails with
/// <see cref="MalformedFileException"/> instead of an allocation or a long read.
/// </summary>
internal sealed class BoundedReader
{
    private const int DefaultBufferSize = 64 * 1024;

    private readonly Stream _stream;
    private readonly byte[] _buffer;
    private int _bufferPos;
    private int _bufferLen;
    // Bytes taken from (or skipped over in) the underlying stream so far.
    private long _consumed;

    public BoundedReader(Stream stream, long length, int bufferSize = DefaultBufferSize)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _stream = stream;
        Length = length;
        _buffer = new byte[bufferSize];
    }

    /// <summary>How many bytes may be read in total (the file size, or a zip entry's declared size).</summary>
    public long Length { get; }
    public long Position => _consumed - (_bufferLen - _bufferPos);
    public long Remaining => Length - Position;
    /// <summary>Numbers are little-endian unless set; GGUF files written big-endian flip this after the version.</summary>
    public bool BigEndian { get; set; }

    public byte ReadByte()
    {
        Ensure(1);
        return _buffer[_bufferPos++];
    }

    /// <summary>The next byte without consuming it, or -1 at the end.</summary>
    public int PeekByte()
    {
        if (Remaining <= 0) return -1;
        Ensure(1);
        return _buffer[_bufferPos];
    }

    public ushort ReadUInt16() { var s = Take(2); return BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s); }
    public short ReadInt16() => unchecked((short)ReadUInt16());
    public uint ReadUInt32() { var s = Take(4); return BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s); }
    public int ReadInt32() => unchecked((int)ReadUInt32());
    public ulong ReadUInt64() { var s = Take(8); return BigEndian ? BinaryPrimitives.ReadUInt64BigEndian(s) : BinaryPrimitives.ReadUInt64LittleEndian(s); }
    public long ReadInt64() => unchecked((long)ReadUInt64());
    public float ReadSingle() => BitConverter.Int32BitsToSingle(ReadInt32());
    public double ReadDouble() => BitConverter.Int64BitsToDouble(ReadInt64());

    /// <summary>A view of the next <paramref name="count"/> bytes, valid until the next read.</summary>
    public ReadOnlySpan<byte> Take(int count)
    {
        Ensure(count);
        var span = new ReadOnlySpan<byte>(_buffer, _bufferPos, count);
        _bufferPos += count;
        return span;
    }

    /// <summary>Reads <paramref name="count"/> bytes into a new array, after checking the count against the bytes left and a cap.</summary>
    public byte[] ReadBytes(long count, long cap, string what)
    {
        CheckLength(count, cap, what);
        var result = new byte[count];
        int copied = 0;
        while (copied < count)
        {
            Ensure(1);
            int n = (int)Math.Min(count - copied, _bufferLen - _bufferPos);
            Buffer.BlockCopy(_buffer, _bufferPos, result, copied, n);
            _bufferPos += n;
            copied += n;
        }
        return result;
    }

    /// <summary>Moves forward without keeping the bytes: seeks when the stream allows it, else reads and drops them.</summary>
    public void Skip(long count, string what)
    {
        CheckLength(count, long.MaxValue, what);
        long inBuffer = _bufferLen - _bufferPos;
        if (count <= inBuffer)
        {
            _bufferPos += (int)count;
            return;
        }
        count -= inBuffer;
        _bufferPos = _bufferLen = 0;
        if (_stream.CanSeek)
        {
            _stream.Seek(count, SeekOrigin.Current);
            _consumed += count;
            return;
        }
        while (count > 0)
        {
            int n = _stream.Read(_buffer, 0, (int)Math.Min(count, _buffer.Length));
            if (n <= 0) throw Truncated(count);
            _consumed += n;
            count -= n;
        }
    }

    /// <summary>
    /// Reads up to and including the next '\n' and returns the bytes before it, keeping at most
    /// <paramref name="keep"/> of them (<paramref name="clipped"/> says if more were dropped), so a long line costs no memory.
    /// </summary>
    public byte[] ReadLine(int keep, out bool clipped)
    {
        var kept = new List<byte>(Math.Min(keep, 64));
        clipped = false;
        while (true)
        {
            if (Remaining <= 0) throw new MalformedFileException("no newline before the end of the data", Position);
            Ensure(1);
            var available = new ReadOnlySpan<byte>(_buffer, _bufferPos, _bufferLen - _bufferPos);
            int newline = available.IndexOf((byte)'\n');
            var chunk = newline >= 0 ? available[..newline] : available;
            int room = keep - kept.Count;
            if (chunk.Length > room) clipped = true;
            foreach (var b in chunk[..Math.Min(room, chunk.Length)]) kept.Add(b);
            if (newline >= 0)
            {
                _bufferPos += newline + 1;
                return kept.ToArray();
            }
            _bufferPos = _bufferLen;
        }
    }

    public void CheckLength(long count, long cap, string what)
    {
        if (count < 0) throw new MalformedFileException($"{what} has a negative length ({count})", Position);
        if (count > Remaining)
            throw new MalformedFileException($"{what} claims {count} bytes but only {Remaining} remain", Position);
        if (count > cap) throw new MalformedFileException($"{what} is {count} bytes, over the limit of {cap}", Position);
    }

    private void Ensure(int count)
    {
        if (_bufferLen - _bufferPos >= count) return;
        if (count > Remaining) throw Truncated(count);
        if (count > _buffer.Length) throw new InvalidOperationException("Read larger than the buffer.");

        // Keep the unread tail and refill behind it; never ask the stream for bytes beyond Length.
        int tail = _bufferLen - _bufferPos;
        Buffer.BlockCopy(_buffer, _bufferPos, _buffer, 0, tail);
        _bufferPos = 0;
        _bufferLen = tail;
        while (_bufferLen < count)
        {
            long allowed = Length - _consumed;
            int want = (int)Math.Min(_buffer.Length - _bufferLen, allowed);
            int n = want > 0 ? _stream.Read(_buffer, _bufferLen, want) : 0;
            if (n <= 0) throw Truncated(count);
            _bufferLen += n;
            _consumed += n;
        }
    }

    private MalformedFileException Truncated(long needed) =>
        new($"the data ends early: {needed} more bytes were needed", Position);
}
