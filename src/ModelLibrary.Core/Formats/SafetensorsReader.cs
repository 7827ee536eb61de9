using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;

namespace ModelLibrary.Formats;

/// <summary>
/// Reads safetensors headers (u64 LE length, then a JSON object) and <c>*.safetensors.index.json</c> shard indexes.
/// Every tensor's data_offsets are checked against its dtype × shape and the file size; tensor data is never read.
/// </summary>
public static class SafetensorsReader
{
    /// <summary>The official library's own limit on the header size.</summary>
    public const long MaxHeaderLength = 100_000_000;
    /// <summary>Indexes hold one short line per tensor; tens of MB would already be absurd.</summary>
    public const long MaxIndexLength = 64L * 1024 * 1024;

    // Bits per element, per the safetensors Dtype enum (sub-byte float types included).
    private static readonly Dictionary<string, int> DTypeBits = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 8, ["U8"] = 8, ["I8"] = 8, ["F8_E5M2"] = 8, ["F8_E4M3"] = 8, ["F8_E8M0"] = 8,
        ["I16"] = 16, ["U16"] = 16, ["F16"] = 16, ["BF16"] = 16,
        ["I32"] = 32, ["U32"] = 32, ["F32"] = 32,
        ["I64"] = 64, ["U64"] = 64, ["F64"] = 64, ["C64"] = 64,
        ["F4"] = 4, ["F6_E2M3"] = 6, ["F6_E3M2"] = 6,
    };

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 16 };

    public static SafetensorsFile Read(string path, CancellationToken cancellationToken = default)
    {
        using var stream = FormatIO.OpenRead(path);
        return Read(stream, path, cancellationToken);
    }

    /// <summary>Reads a safetensors header from a seekable stream positioned at the start of the file.</summary>
    public static SafetensorsFile Read(Stream stream, string sourceName, CancellationToken cancellationToken = default)
    {
        long length = FormatIO.RemainingLength(stream);
        return FormatIO.Parse(sourceName, () => Parse(new BoundedReader(stream, length), sourceName, cancellationToken));
    }

    /// <summary>
    /// True when the first bytes look like a safetensors file: a header length that fits the file, then '{' after any
    /// JSON whitespace (also when the bytes seen are all whitespace: the reader then decides, whatever its length).
    /// </summary>
    public static bool LooksLikeSafetensors(ReadOnlySpan<byte> start, long fileSize)
    {
        if (start.Length < 9 || fileSize < 10) return false;
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(start);
        if (headerLength < 2 || headerLength > (ulong)(fileSize - 8)) return false;
        int first = FirstNonWhitespace(start[8..]);
        return first < 0 || start[8 + first] == (byte)'{';
    }

    private static SafetensorsFile Parse(BoundedReader reader, string source, CancellationToken cancellationToken)
    {
        long fileSize = reader.Length;
        if (fileSize == 0) throw new MalformedFileException("the file is empty");
        if (fileSize < 8) throw new MalformedFileException($"the file is {fileSize} bytes, too small for a safetensors header");

        ulong declared = reader.ReadUInt64();
        if (declared == 0) throw new MalformedFileException("the safetensors header length is 0 (a header is at least '{}')", 0);
        if (declared > (ulong)(fileSize - 8))
            throw new MalformedFileException(declared > (ulong)fileSize * 16 && declared > 1 << 20
                ? $"the safetensors header length {declared} is far more than the whole {fileSize}-byte file: this is not a safetensors file, or only its first bytes are"
                : $"the safetensors header is longer than the file: it claims {declared} bytes, but only {fileSize - 8} follow the length (the file is truncated)", 0);
        if (declared > MaxHeaderLength)
            throw new MalformedFileException($"the safetensors header length {declared} is over the limit of {MaxHeaderLength} bytes", 0);
        long headerLength = (long)declared;
        byte[] header = reader.ReadBytes(headerLength, MaxHeaderLength, "the JSON header");
        // JSON whitespace before '{' is accepted at any length, as the reference reader's JSON parser accepts it.
        int first = FirstNonWhitespace(header);
        if (first < 0 || header[first] != (byte)'{')
            throw new MalformedFileException("the safetensors header is not a JSON object: it does not start with '{'", 8);
        cancellationToken.ThrowIfCancellationRequested();

        long dataSize = fileSize - 8 - headerLength;
        using var json = ParseJson(header, "the safetensors header");
        var root = json.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new MalformedFileException("the safetensors header is not a JSON object", 8);

        Dictionary<string, string>? metadata = null;
        var tensors = new List<SafetensorsTensorInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        long parameters = 0;
        foreach (var property in root.EnumerateObject())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!seen.Add(property.Name)) throw new MalformedFileException($"the header names '{property.Name}' twice");
            if (property.Name == "__metadata__")
            {
                metadata = ReadMetadata(property.Value);
                continue;
            }
            var tensor = ReadTensor(property.Name, property.Value, dataSize);
            tensors.Add(tensor);
            parameters = Checked(() => checked(parameters + tensor.ElementCount), "the parameter count");
        }

        long dataEnd = 8 + headerLength + CheckContiguous(tensors, dataSize);
        return new SafetensorsFile(source, fileSize, headerLength, metadata, tensors, parameters, dataEnd);
    }

    private static Dictionary<string, string> ReadMetadata(JsonElement element)
    {
        // The format defines __metadata__ as a string-to-string map; loaders reject anything else.
        if (element.ValueKind != JsonValueKind.Object) throw new MalformedFileException("__metadata__ is not a JSON object");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.String)
                throw new MalformedFileException($"__metadata__ value '{entry.Name}' is not a string");
            if (!metadata.TryAdd(entry.Name, entry.Value.GetString()!))
                throw new MalformedFileException($"__metadata__ names '{entry.Name}' twice");
        }
        return metadata;
    }

    private static SafetensorsTensorInfo ReadTensor(string name, JsonElement element, long dataSize)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new MalformedFileException($"tensor '{name}' is not a JSON object");
        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new MalformedFileException($"tensor '{name}' has no dtype");
        string dtype = dtypeElement.GetString()!;
        if (!DTypeBits.TryGetValue(dtype, out int bits)) throw new MalformedFileException($"tensor '{name}' has unknown dtype '{dtype}'");

        long[] shape = ReadIntegers(element, "shape", name, maxCount: 64);
        long[] offsets = ReadIntegers(element, "data_offsets", name, maxCount: 2);
        if (offsets.Length != 2) throw new MalformedFileException($"tensor '{name}' needs two data_offsets");

        long elements = 1;
        foreach (long dim in shape) elements = Checked(() => checked(elements * dim), $"the element count of tensor '{name}'");
        long bitCount = Checked(() => checked(elements * bits), $"the size of tensor '{name}'");
        if (bitCount % 8 != 0) throw new MalformedFileException($"tensor '{name}' does not fill a whole number of bytes");
        long byteSize = bitCount / 8;

        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end) throw new MalformedFileException($"tensor '{name}' has data_offsets [{begin}, {end}] that run backwards");
        if (end - begin != byteSize)
            throw new MalformedFileException($"tensor '{name}' is {dtype} [{string.Join(", ", shape)}] = {byteSize} bytes, but its data_offsets span {end - begin}");
        if (end > dataSize)
            throw new MalformedFileException($"tensor '{name}' ends at data byte {end}, past the {dataSize} bytes of data in the file");
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end, elements);
    }

    private static long[] ReadIntegers(JsonElement tensor, string property, string name, int maxCount)
    {
        if (!tensor.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new MalformedFileException($"tensor '{name}' has no {property} array");
        int count = array.GetArrayLength();
        if (count > maxCount) throw new MalformedFileException($"tensor '{name}' has {count} {property} values");
        var values = new long[count];
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw new MalformedFileException($"tensor '{name}' has a {property} value that is not a non-negative integer");
            values[i++] = v;
        }
        return values;
    }

    /// <summary>
    /// As the reference reader's validate: taken in order of their offsets, each tensor starts where the previous one
    /// ends, the first at 0, and the last ends where the file does. The format's buffer is "entirely indexed" with no
    /// holes, no overlap (a zero-size tensor inside another included) and nothing after it.
    /// </summary>
    private static long CheckContiguous(List<SafetensorsTensorInfo> tensors, long dataSize)
    {
        long start = 0;
        SafetensorsTensorInfo? previous = null;
        foreach (var t in tensors.OrderBy(t => t.DataBegin).ThenBy(t => t.DataEnd))
        {
            if (t.DataBegin != start)
            {
                throw new MalformedFileException(previous is null
                    ? $"the first tensor's data ('{t.Name}') starts at data byte {t.DataBegin}, not 0"
                    : t.DataBegin < start
                        ? $"the data of tensors '{previous.Name}' and '{t.Name}' overlap"
                        : $"there is a hole of {t.DataBegin - start} bytes between the data of tensors '{previous.Name}' and '{t.Name}'");
            }
            start = t.DataEnd;
            previous = t;
        }
        if (start != dataSize)
            throw new MalformedFileException($"the file has {dataSize - start} bytes after the end of its last tensor's data");
        return start;
    }

    /// <summary>
    /// Reads a sharded model's index (<c>model.safetensors.index.json</c>) and the header of every shard it names.
    /// Shard names must be plain file names beside the index: an index cannot point elsewhere on disk.
    /// </summary>
    public static SafetensorsModel ReadIndex(string indexPath, CancellationToken cancellationToken = default)
    {
        var (weightMap, declaredTotal) = ReadIndexFile(indexPath);
        string directory = Path.GetDirectoryName(Path.GetFullPath(indexPath))!;

        var shardNames = weightMap.Values.Distinct(StringComparer.Ordinal).ToList();
        var shards = new List<SafetensorsFile>(shardNames.Count);
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string shardName in shardNames)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string shardPath = Path.Combine(directory, shardName);
            if (!File.Exists(shardPath))
                throw Errors.InvalidModelFile(indexPath, $"shard '{shardName}' listed in the index does not exist");
            var shard = Read(shardPath, cancellationToken);
            foreach (var tensor in shard.Tensors)
            {
                if (!owner.TryAdd(tensor.Name, shardName))
                    throw Errors.InvalidModelFile(indexPath, $"tensor '{tensor.Name}' is in both '{owner[tensor.Name]}' and '{shardName}'");
            }
            shards.Add(shard);
        }

        foreach (var (tensorName, shardName) in weightMap)
        {
            if (!owner.TryGetValue(tensorName, out var actual) || actual != shardName)
                throw Errors.InvalidModelFile(indexPath, $"the index maps tensor '{tensorName}' to '{shardName}', which does not hold it");
        }
        return new SafetensorsModel(Path.GetFullPath(indexPath), shards, declaredTotal, weightMap.Count);
    }

    /// <summary>Reads one file as a model of one shard.</summary>
    public static SafetensorsModel ReadModel(string path, CancellationToken cancellationToken = default) =>
        new(null, new[] { Read(path, cancellationToken) }, null, 0);

    /// <summary>
    /// For a shard such as <c>model-00001-of-00002.safetensors</c>, the <c>*.safetensors.index.json</c> beside it whose
    /// weight_map names it, or null when there is none.
    /// </summary>
    public static string? FindIndexFor(string shardPath)
    {
        string fullPath = Path.GetFullPath(shardPath);
        string? directory = Path.GetDirectoryName(fullPath);
        if (directory is null || !Directory.Exists(directory)) return null;
        string fileName = Path.GetFileName(fullPath);
        foreach (string candidate in Directory.EnumerateFiles(directory, "*.safetensors.index.json").Order(StringComparer.Ordinal))
        {
            try
            {
                var (weightMap, _) = ReadIndexFile(candidate);
                if (weightMap.ContainsValue(fileName)) return candidate;
            }
            catch (ValidationException)
            {
                // An unrelated broken index is not this shard's problem.
            }
        }
        return null;
    }

    /// <summary>True when the file's content is a JSON object with a weight_map, i.e. a shard index.</summary>
    internal static bool IsIndexFile(string path)
    {
        try
        {
            ReadIndexFile(path);
            return true;
        }
        catch (ValidationException)
        {
            return false;
        }
    }

    private static (Dictionary<string, string> WeightMap, long? DeclaredTotalSize) ReadIndexFile(string indexPath)
    {
        using var stream = FormatIO.OpenRead(indexPath);
        long length = FormatIO.RemainingLength(stream);
        return FormatIO.Parse(indexPath, () =>
        {
            var reader = new BoundedReader(stream, length);
            byte[] bytes = reader.ReadBytes(length, MaxIndexLength, "the index");
            using var json = ParseJson(bytes, "the index");
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new MalformedFileException("the index has no weight_map object");

            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                string? shard = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString() : null;
                if (shard is null || !IsPlainFileName(shard))
                    throw new MalformedFileException($"the index maps '{entry.Name}' to '{entry.Value}', which is not a file name beside the index");
                if (!weightMap.TryAdd(entry.Name, shard)) throw new MalformedFileException($"the index maps '{entry.Name}' twice");
            }

            long? total = null;
            if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object
                && metadata.TryGetProperty("total_size", out var size) && size.ValueKind == JsonValueKind.Number
                && size.TryGetInt64(out long t))
                total = t;
            return (weightMap, total);
        });
    }

    private static bool IsPlainFileName(string name) =>
        name.Length > 0 && name != "." && name != ".."
        && name.IndexOfAny(new[] { '/', '\\', ':', '\0' }) < 0
        && Path.GetFileName(name) == name;

    private static JsonDocument ParseJson(byte[] bytes, string what)
    {
        // JsonDocument only checks the UTF-8 inside strings when they are read, as an InvalidOperationException; the
        // format requires UTF-8 throughout (the reference loader decodes the whole header first), so check it up front.
        if (!Utf8.IsValid(bytes)) throw new MalformedFileException($"{what} is not valid UTF-8");
        try
        {
            return JsonDocument.Parse(bytes, JsonOptions);
        }
        catch (JsonException ex)
        {
            throw new MalformedFileException($"{what} is not valid JSON: {ex.Message}", null, ex);
        }
    }

    private static int FirstNonWhitespace(ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return i;
        }
        return -1;
    }

    private static long Checked(Func<long> compute, string what)
    {
        try { return compute(); }
        catch (OverflowException) { throw new MalformedFileException($"{what} overflows a 64-bit integer"); }
    }
}
