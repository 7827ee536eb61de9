using System.Diagnostics;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Measures RAM bandwidth with a short copy test: two 64 MiB buffers (larger than CPU caches), copied in parallel
/// slices on every core, best of a few rounds; bandwidth = bytes read + bytes written per second. Token generation
/// on a CPU reads every weight once per token, so this bounds its speed. Measured once per process and cached:
/// the test takes about a tenth of a second.
/// </summary>
public static class MemoryBandwidthTest
{
    const int BufferBytes = 64 * 1024 * 1024;
    const int Rounds = 4;

    static readonly Lazy<double?> Cached = new(Measure, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Bytes per second, measured on first use; null when the test could not run.</summary>
    public static double? Measured => Cached.Value;

    /// <summary>Runs the copy test now (not cached).</summary>
    public static double? Measure()
    {
        try
        {
            var source = GC.AllocateUninitializedArray<byte>(BufferBytes);
            var target = GC.AllocateUninitializedArray<byte>(BufferBytes);
            // Touch every page first so that page faults are not timed.
            Array.Fill(source, (byte)1);
            Array.Fill(target, (byte)0);
            var slices = Math.Max(1, Math.Min(Environment.ProcessorCount, 16));
            var sliceBytes = BufferBytes / slices;
            var best = double.MaxValue;
            for (var round = 0; round < Rounds; round++)
            {
                var watch = Stopwatch.StartNew();
                Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = slices }, i =>
                    source.AsSpan(i * sliceBytes, sliceBytes).CopyTo(target.AsSpan(i * sliceBytes, sliceBytes)));
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }

            return best > 0 ? 2.0 * sliceBytes * slices / best : null;
        }
        catch (OutOfMemoryException)
        {
            return null;
        }
    }
}
