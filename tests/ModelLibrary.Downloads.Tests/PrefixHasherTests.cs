using System.Buffers;
using System.Security.Cryptography;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Point 4: the hash follows the contiguous prefix while parts are still arriving.</summary>
public sealed class PrefixHasherTests : IDisposable
{
    const int PartSize = 65536;
    readonly string path = Path.GetTempFileName();
    readonly byte[] bytes = new byte[4 * PartSize];
    readonly FileStream file;
    readonly List<Part> parts;

    public PrefixHasherTests()
    {
        new Random(9).NextBytes(bytes);
        file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 0);
        file.SetLength(bytes.Length);
        parts = Enumerable.Range(0, 4).Select(i => new Part(i, i * (long)PartSize, PartSize, 0)).ToList();
    }

    public void Dispose()
    {
        file.Dispose();
        File.Delete(path);
    }

    PrefixHasher NewHasher(int maxHeld = 4) => new(file.SafeFileHandle, () => Part.ContiguousEnd(parts), 16384, maxHeld, default);

    /// <summary>Writes <paramref name="count"/> bytes of part <paramref name="index"/> from its current position, as a connection does.</summary>
    (byte[] Buffer, long Offset) Arrive(int index, int count = PartSize)
    {
        var part = parts[index];
        var offset = part.Position;
        var buffer = ArrayPool<byte>.Shared.Rent(count);
        bytes.AsSpan((int)offset, count).CopyTo(buffer);
        RandomAccess.Write(file.SafeFileHandle, buffer.AsSpan(0, count), offset);
        part.Advance(count);
        return (buffer, offset);
    }

    [Fact]
    public async Task The_hash_follows_the_contiguous_prefix_so_only_the_tail_is_left_at_the_end()
    {
        await using var hasher = NewHasher();

        // Parts 1 and 2 first: nothing contiguous from 0 yet.
        Arrive(1);
        Arrive(2);
        await Task.Delay(100);
        Assert.Equal(0, hasher.Hashed);

        // Part 0 completes the prefix up to the end of part 2, which is hashed before the file is complete.
        Arrive(0);
        await TestLibrary.WaitUntilAsync(() => hasher.Hashed == 3 * PartSize, what: "the prefix to be hashed");

        Arrive(3);
        var digest = await hasher.CompleteAsync(bytes.Length);

        Assert.Equal(SHA256.HashData(bytes), digest);
        Assert.Equal(0, hasher.HashedFromMemory);
    }

    [Fact]
    public async Task Buffers_handed_over_at_the_frontier_are_hashed_from_memory_not_read_back()
    {
        await using var hasher = NewHasher();
        foreach (var index in Enumerable.Range(0, 4))
        {
            var (buffer, offset) = Arrive(index);
            Assert.True(hasher.TryTake(buffer, offset, PartSize));
            await TestLibrary.WaitUntilAsync(() => hasher.Hashed == offset + PartSize, what: "the handed-over buffer to be hashed");
        }

        // Overwrite the file: had the hasher read anything back, the digest would be that of the zeros.
        RandomAccess.Write(file.SafeFileHandle, new byte[bytes.Length], 0);
        var digest = await hasher.CompleteAsync(bytes.Length);

        Assert.Equal(SHA256.HashData(bytes), digest);
        Assert.Equal(bytes.Length, hasher.HashedFromMemory);
    }

    [Fact]
    public async Task Buffers_out_of_order_or_beyond_the_limit_are_refused_and_the_gaps_are_read_back()
    {
        await using var hasher = NewHasher(maxHeld: 2);

        // Part 1 arrives first in two halves: the first half is taken (nothing held yet, ahead of the frontier),
        // the second too (it continues the first); a third buffer is over the limit.
        var (a, aOffset) = Arrive(1, PartSize / 2);
        var (b, bOffset) = Arrive(1, PartSize / 2);
        Assert.True(hasher.TryTake(a, aOffset, PartSize / 2));
        Assert.True(hasher.TryTake(b, bOffset, PartSize / 2));
        var (c, cOffset) = Arrive(2, PartSize / 2);
        Assert.False(hasher.TryTake(c, cOffset, PartSize / 2), "over the limit of held buffers");

        // Part 0 does not continue the held buffers: refused, and read back from the file instead.
        var (d, dOffset) = Arrive(0);
        Assert.False(hasher.TryTake(d, dOffset, PartSize), "not next to the held buffers");
        await TestLibrary.WaitUntilAsync(() => hasher.Hashed == 2 * PartSize + PartSize / 2, what: "parts 0, 1 and half of 2 to be hashed");

        // A buffer behind the frontier is of no use.
        Assert.False(hasher.TryTake(d, dOffset, PartSize), "behind the frontier");

        Arrive(2, PartSize / 2);
        Arrive(3);
        var digest = await hasher.CompleteAsync(bytes.Length);

        Assert.Equal(SHA256.HashData(bytes), digest);
        Assert.Equal(PartSize, hasher.HashedFromMemory);
        foreach (var refused in new[] { c, d })
        {
            ArrayPool<byte>.Shared.Return(refused);
        }
    }
}
