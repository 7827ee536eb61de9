using System.Security.Cryptography;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Point 4: the hash follows the contiguous prefix while parts are still arriving.</summary>
public sealed class PrefixHasherTests
{
    [Fact]
    public async Task The_hash_follows_the_contiguous_prefix_so_only_the_tail_is_left_at_the_end()
    {
        var path = Path.GetTempFileName();
        try
        {
            var bytes = new byte[4 * 65536];
            new Random(9).NextBytes(bytes);
            using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read, 0);
            file.SetLength(bytes.Length);
            var parts = Enumerable.Range(0, 4).Select(i => new Part(i, i * 65536L, 65536, 0)).ToList();
            void Arrive(int index)
            {
                RandomAccess.Write(file.SafeFileHandle, bytes.AsSpan(index * 65536, 65536), index * 65536L);
                parts[index].Advance(65536);
            }

            await using var hasher = new PrefixHasher(file.SafeFileHandle, () => Part.ContiguousEnd(parts), 16384, default);

            // Parts 1 and 2 first: nothing contiguous from 0 yet.
            Arrive(1);
            Arrive(2);
            await Task.Delay(100);
            Assert.Equal(0, hasher.Hashed);

            // Part 0 completes the prefix up to the end of part 2, which is hashed before the file is complete.
            Arrive(0);
            await TestLibrary.WaitUntilAsync(() => hasher.Hashed == 3 * 65536, what: "the prefix to be hashed");

            Arrive(3);
            var digest = await hasher.CompleteAsync(bytes.Length);

            Assert.Equal(SHA256.HashData(bytes), digest);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
