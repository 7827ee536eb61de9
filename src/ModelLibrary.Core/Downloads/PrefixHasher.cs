using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace ModelLibrary.Downloads;

/// <summary>
/// SHA-256 of the file, computed while it downloads: follows the end of the contiguous bytes from offset 0 and
/// reads them back from the file (the page cache, as they were just written), so when the last byte lands only
/// the tail is left to hash.
/// </summary>
/// <remarks>
/// Reading back rather than hashing the network buffers keeps one path for every case: parts arriving out of
/// order, a resumed file whose first bytes came from an earlier process (a hash state cannot be saved), and a
/// single stream, where it moves hashing to another core instead of slowing the receive loop.
/// </remarks>
internal sealed class PrefixHasher : IAsyncDisposable
{
    static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(20);

    readonly SafeFileHandle file;
    readonly Func<long> availableEnd;
    readonly int bufferSize;
    readonly CancellationTokenSource stop;
    readonly SemaphoreSlim wake = new(0);
    readonly Task<byte[]> work;
    long finalLength = -1;
    long hashed;

    public PrefixHasher(SafeFileHandle file, Func<long> availableEnd, int bufferSize, CancellationToken cancellationToken)
    {
        this.file = file;
        this.availableEnd = availableEnd;
        this.bufferSize = bufferSize;
        stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        work = Task.Run(() => RunAsync(stop.Token));
    }

    /// <summary>Bytes hashed so far.</summary>
    public long Hashed => Interlocked.Read(ref hashed);

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
                    var read = RandomAccess.Read(file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, end - position)), position);
                    if (read == 0)
                    {
                        throw new IOException($"The partial file ended at {position} bytes, before {end}.");
                    }

                    sha.AppendData(buffer, 0, read);
                    position += read;
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
}
