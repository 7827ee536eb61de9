using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace ModelLibrary.Downloads;

/// <summary>
/// SHA-256 of the file, computed while it downloads: follows the end of the contiguous bytes from offset 0 on its
/// own thread, so when the last byte lands only the tail is left to hash.
/// </summary>
/// <remarks>
/// Bytes reach the hash one of two ways. A connection writing at the hash frontier hands its receive buffer over
/// (<see cref="TryTake"/>) and the hasher reads it from memory; everything else (parts arriving out of order, a
/// resumed file whose first bytes came from an earlier process, a moment when the hasher lags too far behind) is
/// read back from the file, which the page cache usually still holds. Handing buffers over saves copying every byte
/// out of the page cache a second time, which on a fast link is what made the hash finish after the transfer;
/// reading back keeps the hash correct whatever the order of arrival. Either way only bytes below the contiguous
/// end are hashed, so the digest is always that of the bytes on disk.
/// </remarks>
internal sealed class PrefixHasher : IAsyncDisposable
{
    static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(20);

    readonly SafeFileHandle file;
    readonly Func<long> availableEnd;
    readonly int bufferSize;
    readonly int maxHeld;
    readonly CancellationTokenSource stop;
    readonly SemaphoreSlim wake = new(0);
    readonly Queue<Chunk> held = new();
    readonly Task<byte[]> work;
    long finalLength = -1;
    long hashed;
    long heldEnd;
    long fromMemory;
    bool closed;

    /// <param name="file">The partial file, open for reading.</param>
    /// <param name="availableEnd">The end of the contiguous bytes from offset 0 that are on disk.</param>
    /// <param name="bufferSize">Size of a read-back buffer.</param>
    /// <param name="maxHeld">Most buffers held for hashing at once (each one a receive buffer of a connection).</param>
    /// <param name="cancellationToken">Stops hashing.</param>
    public PrefixHasher(SafeFileHandle file, Func<long> availableEnd, int bufferSize, int maxHeld, CancellationToken cancellationToken)
    {
        this.file = file;
        this.availableEnd = availableEnd;
        this.bufferSize = bufferSize;
        this.maxHeld = maxHeld;
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        work = Task.Run(() => RunAsync(stop.Token));
    }

    /// <summary>Bytes hashed so far.</summary>
    public long Hashed => Interlocked.Read(ref hashed);

    /// <summary>Of <see cref="Hashed"/>, the bytes hashed from handed-over buffers rather than read back.</summary>
    public long HashedFromMemory => Interlocked.Read(ref fromMemory);

    /// <summary>
    /// Offers a buffer rented from <see cref="ArrayPool{T}.Shared"/> whose first <paramref name="count"/> bytes were
    /// just written at <paramref name="offset"/>. True: the hasher owns it now (and returns it to the pool); the
    /// caller must rent another. False: it is of no use to the hash (behind the frontier, not next to the buffers
    /// already held, or too many held), and the caller keeps it.
    /// </summary>
    public bool TryTake(byte[] buffer, long offset, int count)
    {
        lock (held)
        {
            var next = held.Count == 0 ? offset >= Hashed : offset == heldEnd;
            if (!next || held.Count >= maxHeld || closed)
            {
                return false;
            }

            held.Enqueue(new Chunk(buffer, offset, count));
            heldEnd = offset + count;
            // Under the lock: not closed yet means the semaphore is not disposed yet either.
            if (wake.CurrentCount == 0)
            {
                wake.Release();
            }
        }

        return true;
    }

    /// <summary>The file is complete at <paramref name="length"/> bytes: hash what is left and return the digest.</summary>
    public Task<byte[]> CompleteAsync(long length)
    {
        Interlocked.Exchange(ref finalLength, length);
        wake.Release();
        return work;
    }

    async Task<byte[]> RunAsync(CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            long position = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var final = Interlocked.Read(ref finalLength);
                var end = final >= 0 ? final : availableEnd();
                if (position < end)
                {
                    var (memory, gapEnd) = NextHeld(position);
                    int count;
                    if (memory is { } chunk)
                    {
                        var skip = (int)(position - chunk.Offset);
                        count = (int)Math.Min(chunk.Count - skip, end - position);
                        sha.AppendData(chunk.Buffer, skip, count);
                        Interlocked.Add(ref fromMemory, count);
                        if (skip + count == chunk.Count)
                        {
                            Release(chunk);
                        }
                    }
                    else
                    {
                        var want = (int)Math.Min(buffer.Length, Math.Min(end, gapEnd) - position);
                        count = RandomAccess.Read(file, buffer.AsSpan(0, want), position);
                        if (count == 0)
                        {
                            throw new IOException($"The partial file ended at {position} bytes, before {end}.");
                        }

                        sha.AppendData(buffer, 0, count);
                    }

                    position += count;
                    Interlocked.Exchange(ref hashed, position);
                    continue;
                }

                if (final >= 0)
                {
                    return sha.GetHashAndReset();
                }

                await wake.WaitAsync(IdleWait, cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ReleaseAll();
        }
    }

    /// <summary>
    /// The held buffer that covers <paramref name="position"/>, if any (buffers wholly behind it are let go); else
    /// where the next held buffer starts, so a read-back stops there and the rest comes from memory.
    /// </summary>
    (Chunk? Covering, long GapEnd) NextHeld(long position)
    {
        lock (held)
        {
            while (held.TryPeek(out var head))
            {
                if (head.Offset + head.Count <= position)
                {
                    held.Dequeue();
                    ArrayPool<byte>.Shared.Return(head.Buffer);
                    continue;
                }

                return head.Offset <= position ? (head, long.MaxValue) : (null, head.Offset);
            }

            return (null, long.MaxValue);
        }
    }

    void Release(Chunk chunk)
    {
        lock (held)
        {
            if (held.TryPeek(out var head) && ReferenceEquals(head.Buffer, chunk.Buffer))
            {
                held.Dequeue();
                ArrayPool<byte>.Shared.Return(chunk.Buffer);
            }
        }
    }

    void ReleaseAll()
    {
        lock (held)
        {
            closed = true;
            while (held.TryDequeue(out var chunk))
            {
                ArrayPool<byte>.Shared.Return(chunk.Buffer);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        stop.Cancel();
        try
        {
            await work;
        }
        catch (Exception)
        {
            // Stopped on purpose, or failed in a way CompleteAsync already reported.
        }

        stop.Dispose();
        wake.Dispose();
    }

    readonly record struct Chunk(byte[] Buffer, long Offset, int Count);
}
