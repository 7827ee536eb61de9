using System.Buffers.Binary;
using System.Text;

namespace ModelLibrary.Formats;

/// <summary>
/// Reads the header of a GGUF file (versions 2 and 3, little- or big-endian): the metadata key/values and the tensor
/// infos. Tensor data is never read; the file size is only compared with where the tensors say their data ends.
/// Every length and count in the file is checked against the bytes left before anything is allocated or skipped.
/// </summary>
/// <remarks>
/// Big-endian files (gguf-py writes them with --bigendian: the magic stays "GGUF", every number after it is swapped)
/// are recognised by their byte-swapped version field and read like any other; <see cref="GgufFile.IsBigEndian"/> says so.
/// Version 1 (32-bit counts and lengths, pre-2023) is refused.
/// </remarks>
public static class GgufReader
{
    /// <summary>How many leading items of each metadata array are kept; the rest are skipped and only counted.</summary>
    public const int ArrayPreviewLength = 32;
    /// <summary>The spec's default for <c>general.alignment</c>.</summary>
    public const uint DefaultAlignment = 32;

    // Sanity caps on top of the remaining-bytes checks: no real file comes near them, and they keep a hostile header
    // that happens to fit in a huge file from costing unbounded time or memory.
    internal const int MaxKeyLength = 65535;           // the spec's own limit for keys
    internal const int MaxTensorNameLength = 65535;
    internal const int MaxStringLength = 16 * 1024 * 1024; // chat templates are the largest real strings, at tens of KB
    internal const long MaxKeyValueCount = 1_000_000;
    internal const long MaxTensorCount = 10_000_000;
    internal const int MaxArrayDepth = 8;
    internal const int MaxDimensions = 4;               // GGML_MAX_DIMS

    private static readonly byte[] Magic = "GGUF"u8.ToArray();

    /// <summary>True when the bytes start with the GGUF magic.</summary>
    public static bool HasMagic(ReadOnlySpan<byte> start) => start.StartsWith(Magic);

    public static GgufFile Read(string path, CancellationToken cancellationToken = default)
    {
        using var stream = FormatIO.OpenRead(path);
        return Read(stream, path, cancellationToken);
    }

    /// <summary>Reads a GGUF header from a seekable stream positioned at the start of the file.</summary>
    public static GgufFile Read(Stream stream, string sourceName, CancellationToken cancellationToken = default)
    {
        long length = FormatIO.RemainingLength(stream);
        return FormatIO.Parse(sourceName, () => new Parser(new BoundedReader(stream, length), sourceName, cancellationToken).Parse());
    }

    /// <summary>
    /// What the parsed header may keep in memory, in bytes (each kept value, string character and tensor info counted):
    /// a header whose keys, scalar values and tensor infos exceed it is refused, and array previews have a smaller budget
    /// of their own, past which arrays are only counted. Hugging Face's parser refuses headers over 50 MB; this bounds
    /// memory whatever the header declares, not the size of the file.
    /// </summary>
    internal const long MemoryBudget = 256L * 1024 * 1024;
    /// <summary>Of which array previews may take this much; past it, arrays are only counted.</summary>
    internal const long PreviewBudget = 16L * 1024 * 1024;
    // Rough cost of one kept object (a GgufValue, a tensor info, a dictionary slot) beyond its strings.
    private const int ObjectCost = 64;

    private sealed class Parser(BoundedReader reader, string source, CancellationToken cancellationToken)
    {
        private readonly UTF8Encoding _utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        private long _spent;

        /// <summary>Counts what must be kept; past the budget the header is refused.</summary>
        private void Spend(long bytes, string what)
        {
            _spent += bytes;
            if (_spent > MemoryBudget)
                throw new MalformedFileException($"the header's {what} need more than the {MemoryBudget / (1024 * 1024)} MB this reader keeps in memory");
        }

        /// <summary>Counts a preview item if it fits the preview budget; false when it should be skipped and only counted.</summary>
        private bool TrySpend(long bytes)
        {
            if (_previewSpent + bytes > PreviewBudget) return false;
            _previewSpent += bytes;
            return true;
        }

        private long _previewSpent;

        public GgufFile Parse()
        {
            long fileSize = reader.Length;
            if (fileSize == 0) throw new MalformedFileException("the file is empty");
            if (fileSize < 4 || !HasMagic(reader.Take(4)))
                throw new MalformedFileException("the file does not start with the GGUF magic", 0);

            uint version = ReadVersion();
            long tensorCount = ReadCount("tensor count", MaxTensorCount, minimumRecordSize: 8 + 4 + 4 + 8);
            long kvCount = ReadCount("metadata key/value count", MaxKeyValueCount, minimumRecordSize: 8 + 4 + 1);

            var metadata = new Dictionary<string, GgufValue>((int)Math.Min(kvCount, 1024), StringComparer.Ordinal);
            for (long i = 0; i < kvCount; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long at = reader.Position;
                string key = ReadString(MaxKeyLength, "metadata key", strict: true);
                Spend(ObjectCost + 2L * key.Length, "metadata keys and values");
                var type = ReadValueType("metadata value type");
                var value = ReadValue(type, depth: 0);
                if (value.Value is string text) Spend(2L * text.Length, "metadata keys and values");
                if (!metadata.TryAdd(key, value)) throw new MalformedFileException($"metadata key '{key}' appears twice", at);
            }

            uint alignment = ReadAlignment(metadata);

            var tensors = new List<GgufTensorInfo>((int)Math.Min(tensorCount, 4096));
            var names = new HashSet<string>(StringComparer.Ordinal);
            long parameters = 0;
            for (long i = 0; i < tensorCount; i++)
            {
                if ((i & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
                long at = reader.Position;
                var tensor = ReadTensorInfo(alignment);
                Spend(ObjectCost * 2 + 2L * tensor.Name.Length + 8L * tensor.Dimensions.Count, "tensor infos");
                if (!names.Add(tensor.Name)) throw new MalformedFileException($"tensor '{tensor.Name}' appears twice", at);
                tensors.Add(tensor);
                parameters = CheckedAdd(parameters, tensor.ElementCount, "the parameter count");
            }

            long headerEnd = reader.Position;
            long dataOffset = AlignUp(headerEnd, alignment);
            long? dataEnd = null;
            if (tensors.Count > 0)
            {
                // Vocab-only files end right after the header, so the aligned data offset may pass the end; only a
                // file with tensors needs its data section to exist.
                if (dataOffset > fileSize)
                    throw new MalformedFileException($"the tensor data would start at byte {dataOffset}, past the end of the {fileSize}-byte file");
                dataEnd = TensorDataEnd(tensors, dataOffset, alignment);
                if (dataEnd > fileSize)
                    throw new MalformedFileException($"the file is truncated: its tensors need {dataEnd} bytes but it has {fileSize}");
            }

            return new GgufFile(source, fileSize, version, reader.BigEndian, metadata, tensors, headerEnd, alignment, dataOffset, dataEnd, parameters);
        }

        private uint ReadVersion()
        {
            uint raw = reader.ReadUInt32();
            uint version = raw;
            // A big-endian writer swaps the version too: 3 reads as 0x03000000. Real versions are small, so a value
            // with an empty low half whose swap is small is a big-endian file.
            if ((raw & 0xFFFF) == 0 && raw != 0)
            {
                reader.BigEndian = true;
                version = BinaryPrimitives.ReverseEndianness(raw);
            }
            return version switch
            {
                2 or 3 => version,
                1 => throw new MalformedFileException("GGUF version 1 is not supported; convert the file with a current llama.cpp", 4),
                _ when raw != version => throw new MalformedFileException(
                    $"unsupported GGUF version field 0x{raw:X8} ({raw}): read byte-swapped, as a big-endian file, it would be version {version}; neither is version 2 or 3", 4),
                _ => throw new MalformedFileException($"unsupported GGUF version {version}", 4),
            };
        }

        private long ReadCount(string what, long cap, int minimumRecordSize)
        {
            long at = reader.Position;
            ulong count = reader.ReadUInt64();
            if (count > (ulong)cap) throw new MalformedFileException($"the {what} {count} is over the limit of {cap}", at);
            if ((long)count > reader.Remaining / minimumRecordSize)
                throw new MalformedFileException($"the {what} {count} cannot fit in the {reader.Remaining} bytes left", at);
            return (long)count;
        }

        private GgufValueType ReadValueType(string what)
        {
            long at = reader.Position;
            uint raw = reader.ReadUInt32();
            if (raw > (uint)GgufValueType.Float64) throw new MalformedFileException($"unknown {what} {raw}", at);
            return (GgufValueType)raw;
        }

        private string ReadString(int cap, string what, bool strict = false)
        {
            long at = reader.Position;
            ulong length = reader.ReadUInt64();
            if (length > (ulong)reader.Remaining)
                throw new MalformedFileException($"{what} claims {length} bytes but only {reader.Remaining} remain", at);
            if (length > (ulong)cap) throw new MalformedFileException($"{what} is {length} bytes, over the limit of {cap}", at);
            var bytes = reader.ReadBytes((long)length, cap, what);
            if (!strict) return _utf8.GetString(bytes);
            try
            {
                return StrictUtf8.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                // Keys are ASCII by the spec; replacing bytes would make two different keys one.
                throw new MalformedFileException($"{what} is not valid UTF-8", at);
            }
        }

        private void SkipString()
        {
            long at = reader.Position;
            ulong length = reader.ReadUInt64();
            if (length > (ulong)reader.Remaining)
                throw new MalformedFileException($"a string claims {length} bytes but only {reader.Remaining} remain", at);
            reader.Skip((long)length, "string");
        }

        private GgufValue ReadValue(GgufValueType type, int depth) => type switch
        {
            GgufValueType.String => GgufValue.Scalar(type, ReadString(MaxStringLength, "string value")),
            GgufValueType.Array => ReadArray(depth + 1),
            _ => GgufValue.Scalar(type, ReadFixed(type)),
        };

        private object ReadFixed(GgufValueType type) => type switch
        {
            GgufValueType.UInt8 => reader.ReadByte(),
            GgufValueType.Int8 => unchecked((sbyte)reader.ReadByte()),
            GgufValueType.UInt16 => reader.ReadUInt16(),
            GgufValueType.Int16 => reader.ReadInt16(),
            GgufValueType.UInt32 => reader.ReadUInt32(),
            GgufValueType.Int32 => reader.ReadInt32(),
            GgufValueType.Float32 => reader.ReadSingle(),
            GgufValueType.Bool => reader.ReadByte() != 0,
            GgufValueType.UInt64 => reader.ReadUInt64(),
            GgufValueType.Int64 => reader.ReadInt64(),
            GgufValueType.Float64 => reader.ReadDouble(),
            _ => throw new InvalidOperationException($"{type} is not a fixed-size type."),
        };

        private static int FixedSize(GgufValueType type) => type switch
        {
            GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
            _ => 0,
        };

        // Smallest encoding of one element: a string is at least its 8-byte length, an array its type and count.
        private static int MinimumSize(GgufValueType type) => type switch
        {
            GgufValueType.String => 8,
            GgufValueType.Array => 4 + 8,
            _ => FixedSize(type),
        };

        private (GgufValueType ElementType, long Count) ReadArrayHeader(int depth)
        {
            long at = reader.Position;
            if (depth > MaxArrayDepth) throw new MalformedFileException($"arrays are nested deeper than {MaxArrayDepth} levels", at);
            var elementType = ReadValueType("array element type");
            ulong count = reader.ReadUInt64();
            if (count > (ulong)(reader.Remaining / MinimumSize(elementType)))
                throw new MalformedFileException($"an array of {count} {elementType} elements cannot fit in the {reader.Remaining} bytes left", at);
            return (elementType, (long)count);
        }

        /// <summary>
        /// An array keeps a preview of its first items (nested arrays too) while the preview budget lasts; the rest are
        /// skipped and only counted, so what is kept never grows with the header.
        /// </summary>
        private GgufValue ReadArray(int depth)
        {
            var (elementType, count) = ReadArrayHeader(depth);
            int kept = (int)Math.Min(count, ArrayPreviewLength);
            var items = new List<GgufValue>(Math.Min(kept, 4));
            int read = 0;
            for (; read < kept; read++)
            {
                if (elementType == GgufValueType.Array)
                {
                    if (!TrySpend(ObjectCost)) break;
                    items.Add(ReadArray(depth + 1));
                    continue;
                }
                if (elementType == GgufValueType.String)
                {
                    long at = reader.Position;
                    ulong length = reader.ReadUInt64();
                    if (length > (ulong)reader.Remaining)
                        throw new MalformedFileException($"a string claims {length} bytes but only {reader.Remaining} remain", at);
                    if (length > MaxStringLength || !TrySpend(ObjectCost + 2L * (long)length))
                    {
                        reader.Skip((long)length, "string");
                        read++;
                        break;
                    }
                    items.Add(GgufValue.Scalar(GgufValueType.String, _utf8.GetString(reader.ReadBytes((long)length, MaxStringLength, "string value"))));
                    continue;
                }
                if (!TrySpend(ObjectCost)) break;
                items.Add(ReadValue(elementType, depth));
            }
            SkipElements(elementType, count - read, depth);
            return GgufValue.ArrayOf(elementType, (ulong)count, items);
        }

        private void SkipElements(GgufValueType elementType, long count, int depth)
        {
            int size = FixedSize(elementType);
            if (size > 0)
            {
                reader.Skip(count * size, "array");  // count * size <= Remaining, checked by ReadArrayHeader
                return;
            }
            for (long i = 0; i < count; i++)
            {
                if ((i & 4095) == 0) cancellationToken.ThrowIfCancellationRequested();
                if (elementType == GgufValueType.String)
                {
                    SkipString();
                }
                else
                {
                    var (innerType, innerCount) = ReadArrayHeader(depth + 1);
                    SkipElements(innerType, innerCount, depth + 1);
                }
            }
        }

        private static uint ReadAlignment(Dictionary<string, GgufValue> metadata)
        {
            if (!metadata.TryGetValue("general.alignment", out var value)) return DefaultAlignment;
            long? alignment = value.AsInt64();
            if (alignment is not (> 0 and <= 1 << 30) || !IsPowerOfTwo(alignment.Value))
                throw new MalformedFileException($"general.alignment must be a power of two, not {value}");
            return (uint)alignment.Value;
        }

        private GgufTensorInfo ReadTensorInfo(uint alignment)
        {
            long at = reader.Position;
            string name = ReadString(MaxTensorNameLength, "tensor name");
            uint dimensionCount = reader.ReadUInt32();
            if (dimensionCount > MaxDimensions)
                throw new MalformedFileException($"tensor '{name}' has {dimensionCount} dimensions; ggml allows at most {MaxDimensions}", at);

            var dims = new long[dimensionCount];
            long elements = 1;
            for (int d = 0; d < dims.Length; d++)
            {
                ulong dim = reader.ReadUInt64();
                if (dim > long.MaxValue) throw new MalformedFileException($"tensor '{name}' has dimension {dim}", at);
                dims[d] = (long)dim;
                elements = CheckedMultiply(elements, dims[d], $"the element count of tensor '{name}'");
            }

            uint type = reader.ReadUInt32();
            ulong offset = reader.ReadUInt64();
            if (offset > long.MaxValue || offset % alignment != 0)
                throw new MalformedFileException($"tensor '{name}' has offset {offset}, not a multiple of the alignment {alignment}", at);

            // ggml refuses a type it has no block size for: unknown numbers and removed types (4 and 5, Q4_2 and Q4_3) alike.
            if (!GgmlType.TryGetBlockGeometry(type, out int blockSize, out int typeSize))
                throw new MalformedFileException($"tensor '{name}' has ggml type {type}, which is not a ggml type", at);
            long rowLength = dims.Length > 0 ? dims[0] : 1;
            if (rowLength % blockSize != 0)
                throw new MalformedFileException($"tensor '{name}' has rows of {rowLength} elements, not a multiple of the {GgmlType.GetName(type)} block size {blockSize}", at);
            long rows = rowLength == 0 ? 0 : elements / rowLength;
            long rowBytes = CheckedMultiply(rowLength / blockSize, typeSize, $"the row size of tensor '{name}'");
            long byteSize = CheckedMultiply(rowBytes, rows, $"the size of tensor '{name}'");
            return new GgufTensorInfo(name, dims, type, offset, elements, byteSize);
        }

        /// <summary>
        /// As ggml's gguf_init_from_file: each tensor's data starts where the previous one's, padded to the alignment,
        /// ends ("tensor 'b' has offset 0, expected 256"), so tensors neither overlap nor come out of order.
        /// </summary>
        private static long TensorDataEnd(List<GgufTensorInfo> tensors, long dataOffset, uint alignment)
        {
            long expected = 0, end = 0;
            foreach (var t in tensors)
            {
                long size = t.ByteSize!.Value;
                if ((long)t.Offset != expected)
                    throw new MalformedFileException($"tensor '{t.Name}' has offset {t.Offset}, expected {expected}");
                end = CheckedAdd(expected, size, $"the end of tensor '{t.Name}'");
                expected = AlignUp(end, alignment);
            }
            return CheckedAdd(dataOffset, end, "the end of the tensor data");
        }
    }

    private static bool IsPowerOfTwo(long v) => (v & (v - 1)) == 0;

    private static long AlignUp(long value, uint alignment) =>
        CheckedAdd(value, alignment - 1, "an aligned offset") / alignment * alignment;

    private static long CheckedMultiply(long a, long b, string what)
    {
        try { return checked(a * b); }
        catch (OverflowException) { throw new MalformedFileException($"{what} overflows a 64-bit integer"); }
    }

    private static long CheckedAdd(long a, long b, string what)
    {
        try { return checked(a + b); }
        catch (OverflowException) { throw new MalformedFileException($"{what} overflows a 64-bit integer"); }
    }
}
