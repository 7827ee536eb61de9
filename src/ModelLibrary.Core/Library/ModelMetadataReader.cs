using System.Globalization;
using ModelLibrary.Files;
using ModelLibrary.Formats;
using ModelLibrary.Validation;

namespace ModelLibrary.Library;

/// <summary>
/// Get-ModelMetadata: what a model file's header says (cached under <c>metadata/</c>), and for a library model the
/// catalog's metadata with the file's values over it, naming every value the two disagree on.
/// </summary>
public sealed class ModelMetadataReader
{
    /// <summary>Catalogs round parameter counts ("7B" for 6.74B); within this ratio they are taken as agreeing.</summary>
    const double ParameterTolerance = 0.10;

    readonly ModelLibraryService library;

    public ModelMetadataReader(ModelLibraryService library) => this.library = library;

    public MetadataCache Cache => library.MetadataCache;

    /// <summary>
    /// Reads the header of a model file (or of the model in a folder). <paramref name="note"/> hears about cache
    /// problems, which never fail the read.
    /// </summary>
    /// <exception cref="ValidationException">InvalidModelFile: missing, unreadable, or not a GGUF/safetensors/PyTorch file.</exception>
    public ModelFileMetadata ReadFile(string path, CancellationToken cancellationToken, Action<string>? note = null)
    {
        // A FIFO would block the read until some other process writes to it; a device never ends.
        FileKinds.EnsureNotSpecial(path);
        var entry = ModelFiles.EntryFile(path);
        // Looked up before the file's existence is checked, so that the entry of a file that is gone is found and dropped.
        if (Cache.TryRead(entry) is { } cached)
        {
            return cached;
        }

        if (!File.Exists(entry))
        {
            throw Errors.InvalidModelFile(entry, "the file does not exist");
        }

        var header = ModelFileInspector.Inspect(entry, cancellationToken);
        if (header.Format == ModelFileFormat.Unknown)
        {
            throw Errors.InvalidModelFile(entry, "it is not a GGUF, safetensors or PyTorch file (its first bytes match none of their formats)");
        }

        var metadata = FromHeader(header);
        if (Cache.TryWrite(entry, ModelFiles.Parts(entry, header), metadata) is { } problem)
        {
            note?.Invoke(problem);
        }

        return metadata;
    }

    /// <summary>
    /// A library model's metadata. With a file here: the catalog's values with the file's over them, and the
    /// differences listed. Without one (Available): the catalog's values alone (<see cref="MetadataSource.Catalog"/>).
    /// </summary>
    /// <exception cref="ModelLibraryException">ModelNotFound; ModelNotLocal when the model's registered file is gone.</exception>
    public async Task<ModelFileMetadata> ReadModelAsync(string id, CancellationToken cancellationToken, Action<string>? note = null)
    {
        var model = await library.GetAsync(id, cancellationToken).ConfigureAwait(false);
        if (model.LocalPath is null)
        {
            return FromCatalog(model);
        }

        if (!File.Exists(model.LocalPath) && !Directory.Exists(model.LocalPath))
        {
            // The registered file is gone, which fails below (ModelNotLocal); its cache entry goes on the way.
            Cache.Remove(model.LocalPath);
        }

        var file = ReadFile(LibraryModelTester.LocalFileOf(model), cancellationToken, note);
        return Merge(model, file);
    }

    /// <summary>The file-level summary of a header, as cached and as <c>Get-ModelMetadata -Path</c> shows it.</summary>
    public static ModelFileMetadata FromHeader(ModelFileInfo header)
    {
        return new ModelFileMetadata
        {
            Path = Path.GetFullPath(header.Path),
            Format = header.FormatName,
            Name = header.Name,
            FileSize = header.FileSize,
            TotalSize = header.TotalSize,
            Parts = header.Parts.ToArray(),
            IsSafe = header.IsSafe,
            UnsafeGlobals = header.Pickle?.UnsafeGlobalNames ?? Array.Empty<string>(),
            ContainsTorchScript = header.Pickle?.ContainsTorchScript ?? false,
            HeaderMetadata = header.Metadata is null ? null : new Dictionary<string, string>(header.Metadata, StringComparer.Ordinal),
            LastWriteTimeUtc = File.GetLastWriteTimeUtc(header.Path),
            Metadata = ModelFileInspector.ToMetadata(header),
            MetadataSource = MetadataSource.File,
        };
    }

    /// <summary>A model without a file: what its catalog says.</summary>
    public static ModelFileMetadata FromCatalog(ModelInfo model) => new()
    {
        ModelId = model.Id,
        Format = model.Format,
        Name = model.Name,
        TotalSize = model.Size,
        Metadata = model.Metadata.Clone(),
        MetadataSource = MetadataSource.Catalog,
    };

    /// <summary>
    /// The catalog's metadata with the file's values over it (the file is what will actually be loaded), and a
    /// <see cref="MetadataDifference"/> for every value both have and disagree on.
    /// </summary>
    public static ModelFileMetadata Merge(ModelInfo model, ModelFileMetadata file)
    {
        var catalog = model.Metadata;
        var differences = new List<MetadataDifference>();
        void Compare(string field, string? catalogValue, string? fileValue, Func<string, string, bool> same)
        {
            if (!string.IsNullOrWhiteSpace(catalogValue) && !string.IsNullOrWhiteSpace(fileValue) && !same(catalogValue, fileValue))
            {
                differences.Add(new MetadataDifference(field, catalogValue, fileValue));
            }
        }

        Compare("Format", model.Format, file.Format, SameText);
        Compare("Architecture", catalog.Architecture, file.Architecture, SameText);
        Compare("Quantization", catalog.Quantization, file.Quantization, SameQuantization);
        Compare("ContextLength", Text(catalog.ContextLength), Text(file.ContextLength), string.Equals);
        Compare("Parameters", catalog.Parameters, file.Parameters, (c, f) => SameParameterCount(c, file.ParameterCount ?? ParseParameterLabel(f)));

        // Values the file lacks (a safetensors file has no context length) come from the catalog.
        var merged = catalog.Clone();
        merged.OverlayHeaderValues(file.Metadata);

        var result = file.Clone();
        result.ModelId = model.Id;
        result.Metadata = merged;
        result.MetadataSource = MetadataSource.Merged;
        result.Differences = differences.ToArray();
        result.FromCache = file.FromCache;
        return result;
    }

    /// <summary>"1.1B" → 1100000000; null when the label is not a number with an optional K/M/B/T suffix.</summary>
    public static long? ParseParameterLabel(string? label)
    {
        if (string.IsNullOrWhiteSpace(label))
        {
            return null;
        }

        var text = label.Trim().ToUpperInvariant();
        double scale = text[^1] switch { 'K' => 1e3, 'M' => 1e6, 'B' => 1e9, 'T' => 1e12, _ => 1 };
        if (scale != 1)
        {
            text = text[..^1];
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? (long)Math.Round(value * scale)
            : null;
    }

    static bool SameParameterCount(string catalogLabel, long? fileCount)
    {
        if (ParseParameterLabel(catalogLabel) is not { } declared || fileCount is not { } actual)
        {
            return true;
        }

        return declared == actual || Math.Abs(declared - actual) <= ParameterTolerance * Math.Max(declared, actual);
    }

    static bool SameText(string a, string b) => string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);

    /// <summary>Q4_K_M, q4_k_m and Q4-K-M name the same quantization.</summary>
    static bool SameQuantization(string a, string b) =>
        string.Equals(a.Trim().Replace('-', '_'), b.Trim().Replace('-', '_'), StringComparison.OrdinalIgnoreCase);

    static string? Text(long? value) => value?.ToString(CultureInfo.InvariantCulture);
}
