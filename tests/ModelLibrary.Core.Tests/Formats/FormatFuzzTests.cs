using System.Buffers.Binary;
using System.Diagnostics;
using ModelLibrary.Formats;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Mutation fuzzing with fixed seeds: valid headers (the real fixtures in tests/fixtures, plus files built with
/// <see cref="GgufBuilder"/> and <see cref="SafetensorsBuilder"/>) get random bit flips, interesting integers,
/// truncations, insertions and deletions. Every read must either succeed or throw ValidationException
/// (InvalidModelFile), and finish well within a per-read time limit.
/// </summary>
public class FormatFuzzTests
{
    private static readonly TimeSpan PerReadLimit = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan WholeRunLimit = TimeSpan.FromSeconds(90);

    private sealed record Seed(string Name, byte[] Bytes, int HeaderLength);

    private static Seed FixtureSeed(string relative, int headerLength) =>
        new(relative, File.ReadAllBytes(Fixtures.File(relative.Split('/'))), headerLength);

    private static Seed BuiltSeed(string name, byte[] bytes) => new(name, bytes, bytes.Length);

    [Fact]
    public Task GgufReaderSurvivesMutations() => Run(seed: 1, iterations: 5000, new[]
        {
            FixtureSeed("gguf/stories260K.gguf", 14176),
            FixtureSeed("gguf/ggml-vocab-bert-bge.gguf", 2048),
            FixtureSeed("gguf/ggml-vocab-phi-3.gguf", 2048),
            BuiltSeed("every-type-le", EveryTypeGguf(bigEndian: false)),
            BuiltSeed("every-type-be", EveryTypeGguf(bigEndian: true)),
            BuiltSeed("quantized", new GgufBuilder().Value("general.alignment", GgufValueType.UInt32, 64u)
                .Tensor("a", 2, 64, 2).Tensor("b", 12, 256).Tensor("c", 30, 3).Build()),
        },
        (bytes, ct) => GgufReader.Read(new MemoryStream(bytes), "fuzz.gguf", ct));

    [Fact]
    public Task SafetensorsReaderSurvivesMutations() => Run(seed: 2, iterations: 5000, new[]
        {
            FixtureSeed("safetensors/mel_filters.safetensors", 80),
            FixtureSeed("safetensors/voices.safetensors", 152),
            FixtureSeed("safetensors/mixed.safetensors", 208),
            FixtureSeed("safetensors/model.safetensors", 328),
            BuiltSeed("built", SafetensorsBuilder.Build(new Dictionary<string, string> { ["k"] = "v" },
                ("a", "BF16", new long[] { 2, 3 }), ("b", "I64", new long[] { 4 }))),
        },
        (bytes, ct) => SafetensorsReader.Read(new MemoryStream(bytes), "fuzz.safetensors", ct));

    [Fact]
    public Task PickleScannerSurvivesMutations() => Run(seed: 3, iterations: 10000,
        Directory.EnumerateFiles(Fixtures.File("pickle"), "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(Fixtures.Root, p).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .Select(p => FixtureSeed(p, p.EndsWith("pytorch_model.bin") ? 8102 : 4096))
            .Concat(BuiltPickleSeeds())
            .ToArray(),
        (bytes, ct) => CheckTensorSummary(PickleScanner.Scan(new MemoryStream(bytes), "fuzz.pkl", ct)));

    /// <summary>Checkpoints whose tensors the stack machine follows, so that mutations reach it (the raw ones unzipped).</summary>
    private static IEnumerable<Seed> BuiltPickleSeeds()
    {
        var stateDict = PickleBuilder.StateDict(new PickleBuilder.Tensor[]
        {
            new("a.weight", "HalfStorage", "0", [4, 8]),
            new("a.tied", "HalfStorage", "0", [4, 8]),
            new("b", "BFloat16Storage", "1", [3_000_000_000L, 2], Offset: 5),
            new("c", "FloatStorage", "2", []),
        });
        yield return BuiltSeed("state-dict-raw", stateDict);
        yield return BuiltSeed("state-dict-zip", PickleBuilder.TorchZip(stateDict, "0", "1", "2"));
        yield return BuiltSeed("legacy-views", PickleBuilder.StateDict(new PickleBuilder.Tensor[] { new("w", "FloatStorage", "9", [6, 2]), new("v", "FloatStorage", "9", [4]) },
            legacy: true, views: new Dictionary<string, (string, long)> { ["v"] = ("10", 8) }));
        yield return BuiltSeed("torchscript", PickleBuilder.TorchScriptZip());
        yield return BuiltSeed("legacy-tar", PickleBuilder.LegacyTarCheckpoint());
    }

    /// <summary>A summary is either known and consistent, or unknown with a reason: never half of each.</summary>
    private static void CheckTensorSummary(PickleScanResult result)
    {
        var tensors = result.Tensors;
        if (tensors.UnknownReason is not null)
        {
            Assert.Null(tensors.ParameterCount);
            Assert.Null(tensors.TensorCount);
        }
        else
        {
            Assert.NotNull(tensors.TensorCount);
            Assert.True(tensors.ParameterCount is null ? tensors.TensorCount == 0 : tensors.ParameterCount >= 0 && tensors.TensorCount > 0);
        }
    }

    [Fact]
    public async Task InspectorSurvivesMutations()
    {
        using var dir = new TempDirectory();
        string path = dir.File("fuzz.bin");
        await Run(seed: 4, iterations: 1000, new[]
            {
                FixtureSeed("gguf/stories260K.gguf", 14176),
                FixtureSeed("safetensors/model.safetensors", 328),
                FixtureSeed("pickle/new_pytorch_model.bin", 747),
                FixtureSeed("pickle/pytorch_model.bin", 8102),
                FixtureSeed("pickle/malicious1_v0.pkl", 48),
                BuiltSeed("legacy-tar", PickleBuilder.LegacyTarCheckpoint()),
                BuiltSeed("state-dict-zip", PickleBuilder.TorchZip(PickleBuilder.StateDict(new PickleBuilder.Tensor[] { new("w", "HalfStorage", "0", [4, 8]) }), "0")),
                BuiltSeed("every-type-be", EveryTypeGguf(bigEndian: true)),
            },
            (bytes, ct) =>
            {
                File.WriteAllBytes(path, bytes);
                ModelFileInspector.Inspect(path, ct);
            });
    }

    private static byte[] EveryTypeGguf(bool bigEndian) => new GgufBuilder { BigEndian = bigEndian }
        .String("general.architecture", "llama")
        .Value("general.file_type", GgufValueType.UInt32, 15u)
        .Value("llama.context_length", GgufValueType.UInt64, 4096ul)
        .Value("i8", GgufValueType.Int8, (sbyte)-1)
        .Value("u16", GgufValueType.UInt16, (ushort)7)
        .Value("i16", GgufValueType.Int16, (short)-7)
        .Value("i32", GgufValueType.Int32, -70)
        .Value("f32", GgufValueType.Float32, 0.5f)
        .Value("b", GgufValueType.Bool, true)
        .Value("i64", GgufValueType.Int64, -700L)
        .Value("f64", GgufValueType.Float64, 0.25)
        .Array("tokens", GgufValueType.String, Enumerable.Range(0, 100).Select(i => (object)$"t{i}").ToArray())
        .Array("nested", GgufValueType.Array, new GgufArray(GgufValueType.UInt8, (byte)1), new GgufArray(GgufValueType.Array, new GgufArray(GgufValueType.String, "x")))
        .Tensor("w", 0, 8, 4)
        .Tensor("q", 8, 32, 2)
        .Build();

    private static async Task Run(int seed, int iterations, IReadOnlyList<Seed> seeds, Action<byte[], CancellationToken> read)
    {
        // The whole loop runs on a worker so that a read that ignores cancellation still fails the test instead of hanging it.
        var work = Task.Run(() =>
        {
            var random = new Random(seed);
            int accepted = 0;
            for (int i = 0; i < iterations; i++)
            {
                var source = seeds[random.Next(seeds.Count)];
                var (bytes, mutation) = Mutate(source, random);
                using var cts = new CancellationTokenSource(PerReadLimit);
                var clock = Stopwatch.StartNew();
                string what = $"iteration {i} ({source.Name}: {mutation})";
                try
                {
                    read(bytes, cts.Token);
                    accepted++;
                }
                catch (ValidationException ex)
                {
                    Assert.True(ex.ErrorId == ErrorIds.InvalidModelFile, $"{what}: ErrorId {ex.ErrorId}");
                }
                catch (OperationCanceledException)
                {
                    Assert.Fail($"{what}: took longer than {PerReadLimit}");
                }
                catch (Exception ex)
                {
                    Assert.Fail($"{what}: {ex.GetType().Name}: {ex.Message}");
                }
                Assert.True(clock.Elapsed < PerReadLimit, $"{what}: took {clock.Elapsed}");
            }
            return accepted;
        });
        int accepted = await work.WaitAsync(WholeRunLimit);
        // Mutations that land in names or token text keep a file valid, most others break it: seeing both shows the
        // mutations reach past the first check instead of all failing (or all passing) the same way.
        Assert.InRange(accepted, 1, iterations - 1);
    }

    private static readonly ulong[] InterestingNumbers =
    {
        0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1ul << 32, 1ul << 60, 1ul << 63, ulong.MaxValue, ulong.MaxValue - 7,
    };

    private static (byte[] Bytes, string Mutation) Mutate(Seed seed, Random random)
    {
        var source = seed.Bytes;
        // Mostly mutate the header, where the lengths and counts are; sometimes anywhere.
        int Position(int extra = 0)
        {
            int limit = random.Next(4) == 0 ? source.Length : Math.Min(seed.HeaderLength, source.Length);
            return random.Next(Math.Max(1, limit - extra));
        }

        var bytes = (byte[])source.Clone();
        switch (random.Next(7))
        {
            case 0:
            {
                int flips = random.Next(1, 9);
                for (int f = 0; f < flips; f++) bytes[Position()] ^= (byte)(1 << random.Next(8));
                return (bytes, $"{flips} bit flips");
            }
            case 1:
            {
                int at = Position();
                bytes[at] = (byte)InterestingNumbers[random.Next(5)];
                return (bytes, $"byte at {at} = {bytes[at]}");
            }
            case 2:
            {
                int at = Position(extra: 8);
                if (at + 8 > bytes.Length) return (bytes, "unchanged");
                ulong value = InterestingNumbers[random.Next(InterestingNumbers.Length)];
                if (random.Next(2) == 0) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), value);
                else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), (uint)value);
                return (bytes, $"integer {value} at {at}");
            }
            case 3:
            {
                int length = Position();
                return (source[..length], $"truncated to {length}");
            }
            case 4:
            {
                int at = Position();
                var insert = new byte[random.Next(1, 17)];
                random.NextBytes(insert);
                return ([.. source[..at], .. insert, .. source[at..]], $"{insert.Length} bytes inserted at {at}");
            }
            case 5:
            {
                int at = Position();
                int count = Math.Min(random.Next(1, 17), source.Length - at);
                return ([.. source[..at], .. source[(at + count)..]], $"{count} bytes deleted at {at}");
            }
            default:
            {
                int at = Position();
                int count = Math.Min(random.Next(1, 33), source.Length - at);
                return ([.. source[..(at + count)], .. source[at..]], $"{count} bytes duplicated at {at}");
            }
        }
    }
}
