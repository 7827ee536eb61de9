using System.Globalization;
using System.IO.Compression;

namespace ModelLibrary.Formats;

/// <summary>
/// The one entry point for model files: detects the format from the first bytes (never the extension), reads the
/// header with the matching reader, and summarises it as a <see cref="ModelFileInfo"/>.
/// </summary>
public static class ModelFileInspector
{
    // A tar header is one 512-byte block; the other formats show themselves in the first 64 bytes.
    private const int SniffLength = PickleScanner.TarBlockSize;
    private const int MagicLength = 64;

    private enum Kind { Unknown, Gguf, Safetensors, SafetensorsIndex, Pickle, MaybePickle }

    /// <summary>
    /// Reads a model file's header. GGUF split parts and safetensors shards (or their index) are read as the whole
    /// model. Pickles are scanned, not loaded; an unsafe one is reported (<see cref="ModelFileInfo.IsSafe"/>), not thrown.
    /// </summary>
    /// <exception cref="ValidationException">InvalidModelFile: missing, empty, truncated or malformed file, or missing parts.</exception>
    public static ModelFileInfo Inspect(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (kind, size) = Sniff(path);
        return kind switch
        {
            Kind.Gguf => InspectGguf(path, cancellationToken),
            Kind.Safetensors => FromSafetensors(path, size,
                SafetensorsReader.FindIndexFor(path) is string index
                    ? SafetensorsReader.ReadIndex(index, cancellationToken)
                    : SafetensorsReader.ReadModel(path, cancellationToken)),
            Kind.SafetensorsIndex => FromSafetensors(path, size, SafetensorsReader.ReadIndex(path, cancellationToken)),
            Kind.Pickle => FromPickle(path, size, PickleScanner.Scan(path, cancellationToken)),
            Kind.MaybePickle => TryScanPickle(path, cancellationToken) is PickleScanResult scan
                ? FromPickle(path, size, scan)
                : UnknownOrHeaderError(path, size, cancellationToken),
            _ => UnknownOrHeaderError(path, size, cancellationToken),
        };
    }

    /// <summary>
    /// A file whose bytes match no format. One named <c>.safetensors</c> is read as safetensors anyway, so its error
    /// names what is wrong with its header (length 0, longer than the file, not JSON) rather than "no known format".
    /// </summary>
    private static ModelFileInfo UnknownOrHeaderError(string path, long size, CancellationToken cancellationToken)
    {
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return FromSafetensors(path, size, SafetensorsReader.ReadModel(path, cancellationToken));
        return Unknown(path, size);
    }

    /// <summary>The format the file's first bytes announce, without reading further than needed to tell.</summary>
    public static ModelFileFormat DetectFormat(string path)
    {
        var (kind, _) = Sniff(path);
        return kind switch
        {
            Kind.Gguf => ModelFileFormat.Gguf,
            Kind.Safetensors or Kind.SafetensorsIndex => ModelFileFormat.Safetensors,
            Kind.Pickle => ModelFileFormat.PyTorch,
            Kind.MaybePickle => TryScanPickle(path, CancellationToken.None) is null ? ModelFileFormat.Unknown : ModelFileFormat.PyTorch,
            _ => ModelFileFormat.Unknown,
        };
    }

    /// <summary>Throws <see cref="ModelSecurityException"/> (UnsafeModelContent) when the file is a pickle importing unsafe globals.</summary>
    public static void ThrowIfUnsafe(ModelFileInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        info.Pickle?.ThrowIfUnsafe();
    }

    /// <summary>A new <see cref="ModelMetadata"/> holding what the file says: the one mapping of header to metadata.</summary>
    public static ModelMetadata ToMetadata(ModelFileInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new ModelMetadata
        {
            ParameterCount = info.ParameterCount,
            Parameters = info.ParameterCount is long parameters ? FormatParameterCount(parameters) : null,
            Architecture = info.Architecture,
            Quantization = info.Quantization,
            ContextLength = info.ContextLength,
            EmbeddingLength = info.EmbeddingLength,
            BlockCount = info.BlockCount,
            HeadCount = info.HeadCount,
            HeadCountKv = info.HeadCountKv,
            ExpertCount = info.ExpertCount,
            ExpertUsedCount = info.ExpertUsedCount,
            KeyLength = info.KeyLength,
            ValueLength = info.ValueLength,
            WeightBytes = info.WeightBytes,
            ExpertWeightBytes = info.ExpertWeightBytes,
            CacheType = info.CacheType,
            TokenizerModel = info.TokenizerModel,
            HasChatTemplate = info.HasChatTemplate,
            TensorCount = info.TensorCount,
            FileFormatVersion = info.FormatVersion,
        };
    }

    /// <summary>
    /// Copies what the file says into <paramref name="metadata"/>. The file is authoritative where it has a value;
    /// values it lacks (e.g. a catalog's context length for a safetensors file) are left as they were.
    /// </summary>
    public static void ApplyTo(ModelFileInfo info, ModelMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        metadata.OverlayHeaderValues(ToMetadata(info));
    }

    /// <summary>A parameter count as catalogs write it: 292800 → "292.8K", 1100048384 → "1.1B", 7000000000 → "7B".</summary>
    public static string FormatParameterCount(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        string[] suffixes = { "", "K", "M", "B", "T" };
        int unit = 0;
        decimal value = count;
        while (unit < suffixes.Length - 1 && value >= 1000)
        {
            value /= 1000;
            unit++;
        }
        value = Math.Round(value, 1, MidpointRounding.AwayFromZero);
        // 999.96K rounds to 1000.0K, which reads better as 1M.
        if (value >= 1000 && unit < suffixes.Length - 1)
        {
            value = Math.Round(value / 1000, 1, MidpointRounding.AwayFromZero);
            unit++;
        }
        return value.ToString("0.#", CultureInfo.InvariantCulture) + suffixes[unit];
    }

    private static (Kind Kind, long Size) Sniff(string path)
    {
        using var stream = FormatIO.OpenRead(path);
        long size = stream.Length;
        if (size == 0) throw Errors.InvalidModelFile(path, "the file is empty");
        Span<byte> block = stackalloc byte[SniffLength];
        block = block[..stream.ReadAtLeast(block, SniffLength, throwOnEndOfStream: false)];
        var start = block[..Math.Min(block.Length, MagicLength)];

        if (GgufReader.HasMagic(start)) return (Kind.Gguf, size);
        if (SafetensorsReader.LooksLikeSafetensors(start, size)) return (Kind.Safetensors, size);
        if (PickleScanner.IsZip(start))
        {
            stream.Position = 0;
            return (ZipHoldsPickle(stream, path) ? Kind.Pickle : Kind.Unknown, size);
        }
        // torch's first format: a tar archive with a 'pickle' member.
        if (PickleScanner.IsTar(block))
        {
            stream.Position = 0;
            return (PickleScanner.IsTorchTar(stream, path) switch { true => Kind.Pickle, false => Kind.Unknown, null => Kind.MaybePickle }, size);
        }
        // Protocol 2+ pickles open with PROTO; torch's legacy format starts with one too.
        if (start.Length >= 2 && start[0] == 0x80 && start[1] <= 5) return (Kind.Pickle, size);

        int first = start.IndexOfAnyExcept(" \t\r\n"u8);
        if (first >= 0 && start[first] == (byte)'{')
            return (SafetensorsReader.IsIndexFile(path) ? Kind.SafetensorsIndex : Kind.Unknown, size);
        // Protocol 0 and 1 pickles have no magic: any opcode may come first. Such files are confirmed by a scan.
        return ("(]})cSVXUTIJKLMNFGPg"u8.Contains(start[0]) ? Kind.MaybePickle : Kind.Unknown, size);
    }

    private static bool ZipHoldsPickle(Stream stream, string path)
    {
        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            return archive.Entries.Any(e => PickleScanner.IsPickleEntry(e.FullName) || PickleScanner.IsTorchScriptEntry(e.FullName));
        }
        catch (InvalidDataException ex)
        {
            throw Errors.InvalidModelFile(path, $"the zip archive is corrupt: {ex.Message}", ex);
        }
    }

    private static PickleScanResult? TryScanPickle(string path, CancellationToken cancellationToken)
    {
        try
        {
            return PickleScanner.Scan(path, cancellationToken);
        }
        catch (ValidationException)
        {
            return null;
        }
    }

    private static ModelFileInfo InspectGguf(string path, CancellationToken cancellationToken)
    {
        var partPaths = new List<string> { Path.GetFullPath(path) };
        long totalSize = FileKinds.Length(path);
        if (GgufSplitSet.Find(path) is GgufSplitSet split)
        {
            if (!split.IsComplete)
                throw Errors.InvalidModelFile(path,
                    $"the split GGUF model is missing part(s) {string.Join(", ", split.MissingPartNumbers)} of {split.PartCount}");
            partPaths = split.Parts.ToList();
            totalSize = split.TotalSize;
        }

        var parts = new List<GgufFile>(partPaths.Count);
        foreach (var part in partPaths)
        {
            var file = GgufReader.Read(part, cancellationToken);
            // gguf-split records each part's number and the total; a part from another split set must not slip in.
            if (partPaths.Count > 1
                && ((file.SplitCount is long count && count != partPaths.Count) || (file.SplitIndex is long index && index != parts.Count)))
                throw Errors.InvalidModelFile(part,
                    $"its split.no/split.count ({file.SplitIndex}/{file.SplitCount}) do not match part {parts.Count + 1} of {partPaths.Count}");
            parts.Add(file);
        }

        if (parts.Count > 1) CheckSplitTensors(path, partPaths, parts);

        var first = parts[0];
        return new ModelFileInfo
        {
            Path = path,
            Format = ModelFileFormat.Gguf,
            FileSize = FileKinds.Length(path),
            FormatVersion = $"GGUF v{first.Version}",
            Architecture = first.Architecture,
            Name = first.Name,
            FileType = first.FileType,
            Quantization = first.Quantization,
            ContextLength = first.ContextLength,
            EmbeddingLength = first.EmbeddingLength,
            BlockCount = first.BlockCount,
            HeadCount = first.HeadCount,
            HeadCountKv = first.HeadCountKv,
            ExpertCount = first.ExpertCount,
            ExpertUsedCount = first.ExpertUsedCount,
            KeyLength = first.KeyLength,
            ValueLength = first.ValueLength,
            // Null when a tensor's type has no known size: then the file size stands in (see MemoryEstimator).
            WeightBytes = parts.All(p => p.TensorDataBytes is not null) ? parts.Sum(p => p.TensorDataBytes!.Value) : null,
            ExpertWeightBytes = parts.All(p => p.ExpertTensorDataBytes is not null) ? parts.Sum(p => p.ExpertTensorDataBytes!.Value) : null,
            TokenizerModel = first.TokenizerModel,
            HasChatTemplate = first.HasChatTemplate,
            Alignment = first.Alignment,
            IsBigEndian = first.IsBigEndian,
            TensorCount = parts.Sum(p => (long)p.TensorCount),
            ParameterCount = parts.Sum(p => p.ParameterCount),
            DataOffset = first.DataOffset,
            ExpectedMinimumFileSize = first.TensorDataEnd,
            Parts = partPaths,
            TotalSize = totalSize,
            GgufParts = parts,
        };
    }

    /// <summary>
    /// As llama.cpp's loader refuses a split set: one tensor name in two parts ("tensor is duplicated"), or a total that
    /// is not the <c>split.tensors.count</c> the first part declares.
    /// </summary>
    private static void CheckSplitTensors(string path, List<string> partPaths, List<GgufFile> parts)
    {
        var owner = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < parts.Count; i++)
        {
            foreach (var tensor in parts[i].Tensors)
            {
                if (!owner.TryAdd(tensor.Name, i))
                    throw Errors.InvalidModelFile(partPaths[i], $"tensor '{tensor.Name}' is in both part {owner[tensor.Name] + 1} and part {i + 1} of the split model");
            }
        }
        if (parts[0].GetInt64("split.tensors.count") is long declared && declared != owner.Count)
            throw Errors.InvalidModelFile(path, $"split.tensors.count says the split model has {declared} tensors, but its {parts.Count} parts hold {owner.Count}");
    }

    private static ModelFileInfo FromSafetensors(string path, long size, SafetensorsModel model)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(model.Shards.Count > 0 ? model.Shards[0].Source : path)) ?? ".";
        var config = TransformersConfig.TryRead(folder);
        return FromSafetensors(path, size, model, config);
    }

    private static ModelFileInfo FromSafetensors(string path, long size, SafetensorsModel model, TransformersConfig? config) => new()
    {
        ContextLength = config?.ContextLength,
        EmbeddingLength = config?.HiddenSize,
        BlockCount = config?.Layers,
        HeadCount = config?.Heads,
        HeadCountKv = config?.KvHeads,
        KeyLength = config?.HeadDim,
        ValueLength = config?.HeadDim,
        ExpertCount = config?.Experts,
        ExpertUsedCount = config?.ExpertsPerToken,
        CacheType = config?.DType,
        WeightBytes = model.DeclaredTotalSize ?? model.TotalFileSize,
        Path = path,
        Format = ModelFileFormat.Safetensors,
        FileSize = size,
        FormatVersion = "safetensors",
        Quantization = model.DominantDType,
        TensorCount = model.TensorCount,
        ParameterCount = model.ParameterCount,
        Parts = model.Shards.Select(s => Path.GetFullPath(s.Source)).ToList(),
        TotalSize = model.TotalFileSize,
        Metadata = model.Metadata,
        Safetensors = model,
    };

    private static ModelFileInfo FromPickle(string path, long size, PickleScanResult scan) => new()
    {
        Path = path,
        Format = ModelFileFormat.PyTorch,
        FileSize = size,
        FormatVersion = scan.Container switch
        {
            PickleContainer.Zip when scan.ContainsTorchScript => scan.PickleCount == 0 ? "TorchScript zip" : $"TorchScript zip, pickle protocol {scan.Protocol}",
            PickleContainer.Zip => $"PyTorch zip, pickle protocol {scan.Protocol}",
            PickleContainer.LegacyTar => $"PyTorch legacy tar, pickle protocol {scan.Protocol}",
            _ => $"pickle protocol {scan.Protocol}",
        },
        // What the tensor rebuilds say, as the safetensors and GGUF readers report it: unknown stays null.
        Quantization = scan.Tensors.DominantDType,
        TensorCount = scan.Tensors.ParameterCount is null ? null : scan.Tensors.TensorCount,
        ParameterCount = scan.Tensors.ParameterCount,
        Parts = new[] { Path.GetFullPath(path) },
        TotalSize = size,
        Pickle = scan,
    };

    private static ModelFileInfo Unknown(string path, long size) => new()
    {
        Path = path,
        Format = ModelFileFormat.Unknown,
        FileSize = size,
        Parts = new[] { Path.GetFullPath(path) },
        TotalSize = size,
    };
}
