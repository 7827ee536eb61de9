using System.Security.Cryptography;
using ModelLibrary.Catalog;
using ModelLibrary.Files;
using ModelLibrary.Formats;
using ModelLibrary.Validation;

namespace ModelLibrary.Library;

/// <summary>How <c>Import-LibraryModel</c> takes a file into the library.</summary>
public enum ImportMode
{
    /// <summary>Copy into <c>&lt;provider folder&gt;/&lt;id&gt;/</c>; the original stays.</summary>
    Copy,
    /// <summary>Move into <c>&lt;provider folder&gt;/&lt;id&gt;/</c>.</summary>
    Move,
    /// <summary>Register the file where it is. Outside the library's folders it is never moved or deleted by the library.</summary>
    InPlace,
}

/// <summary>What to import: a model file, any part of a split GGUF or sharded safetensors model, or a model folder.</summary>
public sealed class ImportRequest
{
    public required string Path { get; init; }
    public string? Id { get; init; }
    public string? Provider { get; init; }
    public ImportMode Mode { get; init; } = ImportMode.Copy;
    /// <summary>Replace a model that is already Local, and files already at the destination.</summary>
    public bool Force { get; init; }
}

/// <summary>An import checked and ready to run: nothing has been written yet.</summary>
public sealed class ImportPlan
{
    public required string Id { get; init; }
    public required string Provider { get; init; }
    public required ImportMode Mode { get; init; }
    /// <summary>The file that stands for the model (the file given, first split part, or shard index).</summary>
    public required string SourceEntry { get; init; }
    /// <summary>Every file to copy or move (or to register, in place), as full paths.</summary>
    public required IReadOnlyList<string> SourceFiles { get; init; }
    /// <summary>The folder the source files are taken relative to.</summary>
    public required string SourceRoot { get; init; }
    /// <summary><c>&lt;provider folder&gt;/&lt;id&gt;</c>, or null in place.</summary>
    public string? TargetDirectory { get; init; }
    /// <summary>Where the entry file will be: the model's LocalPath.</summary>
    public required string LocalPath { get; init; }
    public required bool Force { get; init; }
    public ModelFileInfo? Header { get; init; }
    /// <summary>The catalog entry with the same id, whose name, source and checksum the import keeps.</summary>
    public ModelInfo? CatalogEntry { get; init; }
    /// <summary>The model the id names now, if any.</summary>
    public ModelInfo? Existing { get; init; }
    public required ModelValidationResult Validation { get; init; }

    /// <summary>The file a <c>-WhatIf</c> or confirmation names.</summary>
    public string Target => SourceFiles.Count == 1 ? SourceEntry : SourceRoot;

    /// <summary>The action, for a confirmation prompt.</summary>
    public string Action => Mode switch
    {
        ImportMode.InPlace => $"Register in place as '{Id}' ({Provider})",
        ImportMode.Move => $"Move {Files} to '{TargetDirectory}' and register as '{Id}' ({Provider})",
        _ => $"Copy {Files} to '{TargetDirectory}' and register as '{Id}' ({Provider})",
    };

    string Files => SourceFiles.Count == 1 ? "1 file" : $"{SourceFiles.Count} files";
}

/// <summary>
/// Import-LibraryModel: registers a model file already on disk. <see cref="PlanAsync"/> reads and validates the
/// source and decides the id, provider and destination, writing nothing; <see cref="ImportAsync"/> then copies or
/// moves the files (each to a temporary name in the destination folder, renamed once all are complete, so no
/// half-written model ever appears) and writes the registry row.
/// </summary>
public sealed class ModelImporter
{
    const int CopyBufferSize = 1 << 20;

    readonly ModelLibraryService library;

    public ModelImporter(ModelLibraryService library) => this.library = library;

    /// <exception cref="ValidationException">InvalidModelFile, ChecksumMismatch.</exception>
    /// <exception cref="ModelSecurityException">UnsafeModelContent.</exception>
    /// <exception cref="ModelLibraryException">ModelExists, InvalidModelId, DownloadInProgress.</exception>
    public async Task<ImportPlan> PlanAsync(ImportRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var configuration = library.Configuration;
        var full = Path.GetFullPath(request.Path);
        if (!File.Exists(full) && !Directory.Exists(full))
        {
            throw Errors.InvalidModelFile(full, "it does not exist");
        }

        // Refused before anything opens it: a FIFO would hang the import, a device never ends.
        FileKinds.EnsureNotSpecial(full);

        var isFolder = Directory.Exists(full);
        var entry = ModelFiles.EntryFile(full);

        var id = request.Id ?? SuggestId(full);
        if (!ModelNames.IsValidId(id))
        {
            throw Errors.InvalidModelId(id);
        }

        if (request.Provider is { } requested && !ModelNames.IsValidProviderName(requested))
        {
            throw Errors.InvalidProviderName(requested);
        }

        var catalog = await library.ReadCatalogAsync(cancellationToken).ConfigureAwait(false);
        var catalogEntry = catalog.Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));
        var listing = await library.ListAsync(cancellationToken).ConfigureAwait(false);
        var existing = listing.Models.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));
        if (existing is not null)
        {
            id = existing.Id;
            if (existing.Status == ModelStatus.Downloading)
            {
                throw Errors.DownloadInProgress(id, "it cannot be imported or replaced until that download ends");
            }

            if (existing.LocalPath is not null && !request.Force)
            {
                throw Errors.ModelExists(id, existing.LocalPath);
            }
        }

        // The file is judged against the catalog's declared size and format when it claims a catalog id. The checksum
        // is verified while the bytes are copied, so the file is read once.
        var validation = await ModelValidator.ValidateFileAsync(entry, catalogEntry, configuration, verifyChecksum: false, cancellationToken).ConfigureAwait(false);
        ModelValidator.ThrowIfFailed(validation);
        var header = validation.Header ?? TryInspect(entry, cancellationToken);
        var format = header?.Format is { } f && f != ModelFileFormat.Unknown ? header.FormatName : ModelFileNames.FormatOf(entry);

        var provider = request.Provider ?? catalogEntry?.Provider ?? ModelFileNames.DefaultProvider(format)
            ?? throw Errors.InvalidModelFile(entry, $"its provider cannot be inferred from its format ({format ?? "unknown"}); pass -Provider");

        var sourceRoot = isFolder ? full : Path.GetDirectoryName(entry)!;
        var sourceFiles = isFolder ? FolderFiles(full) : ModelFiles.Parts(entry, header);
        foreach (var file in sourceFiles)
        {
            FileKinds.EnsureNotSpecial(file);
        }

        if (isFolder && configuration.EnableSecurityScanning)
        {
            ScanFolderFiles(sourceFiles, entry, cancellationToken);
        }

        var mode = request.Mode;
        string? targetDirectory = null;
        var localPath = entry;
        if (mode != ImportMode.InPlace)
        {
            targetDirectory = Path.GetFullPath(library.ModelDirectory(new ModelInfo { Id = id, Provider = provider }));
            PathContainment.EnsureInside(targetDirectory, configuration.WritableRoots);
            if (sourceFiles.All(s => PathContainment.IsInsideAsWritten(s, targetDirectory)))
            {
                // Already where an import would put it: registering is all that is left to do.
                mode = ImportMode.InPlace;
                targetDirectory = null;
            }
            else
            {
                localPath = Path.Combine(targetDirectory, Path.GetRelativePath(sourceRoot, entry));
                var occupied = sourceFiles.Select(s => Path.Combine(targetDirectory, Path.GetRelativePath(sourceRoot, s))).FirstOrDefault(File.Exists);
                if (occupied is not null && !request.Force)
                {
                    throw Errors.ModelExists(id, occupied);
                }
            }
        }

        return new ImportPlan
        {
            Id = id,
            Provider = provider,
            Mode = mode,
            SourceEntry = entry,
            SourceFiles = sourceFiles,
            SourceRoot = sourceRoot,
            TargetDirectory = targetDirectory,
            LocalPath = localPath,
            Force = request.Force,
            Header = header,
            CatalogEntry = catalogEntry,
            Existing = existing,
            Validation = validation,
        };
    }

    /// <summary>
    /// Copies or moves the files and registers the model as Local; returns it as the library now lists it. With
    /// -Force over a model that had other files, those files are deleted afterwards (see <see cref="ForgetReplacedCopy"/>);
    /// <paramref name="note"/> hears about any that could not be, which never fails the import.
    /// </summary>
    /// <exception cref="ValidationException">ChecksumMismatch when the file is not the catalog model it claims to be; nothing is kept.</exception>
    public async Task<ModelInfo> ImportAsync(ImportPlan plan, CancellationToken cancellationToken, Action<string>? note = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        // A library this session may only read: say so before a byte is copied.
        library.Database.EnsureWritable();
        var checksums = plan.Mode switch
        {
            ImportMode.InPlace => await HashAllAsync(plan, cancellationToken).ConfigureAwait(false),
            _ => await TransferAsync(plan, cancellationToken).ConfigureAwait(false),
        };

        var weightFiles = ModelFiles.Parts(plan.SourceEntry, plan.Header);
        var localFiles = plan.Mode == ImportMode.InPlace
            ? plan.SourceFiles
            : plan.SourceFiles.Select(s => Path.Combine(plan.TargetDirectory!, Path.GetRelativePath(plan.SourceRoot, s))).ToList();
        var model = plan.CatalogEntry?.Clone() ?? new ModelInfo
        {
            Id = plan.Id,
            Name = Path.GetFileName(plan.SourceFiles.Count == 1 ? plan.SourceEntry : plan.SourceRoot),
            Source = "imported",
            Description = $"Imported from '{plan.Target}'.",
            Metadata = new ModelMetadata(),
        };
        model.Id = plan.Id;
        model.Provider = plan.Provider;
        model.Status = ModelStatus.Local;
        model.StatusMessage = null;
        model.DownloadProgress = null;
        model.LocalPath = plan.LocalPath;
        model.FileName = Path.GetFileName(plan.LocalPath);
        model.Format = plan.Header?.Format is { } f && f != ModelFileFormat.Unknown ? plan.Header.FormatName : ModelFileNames.FormatOf(plan.LocalPath) ?? model.Format;
        // Links followed: a model imported in place from the Hub cache is a link into its blobs/.
        model.DiskUsage = localFiles.Where(File.Exists).Sum(FileKinds.Length);
        model.Size ??= plan.Header?.TotalSize ?? model.DiskUsage;
        model.DownloadDate = DateTimeOffset.UtcNow;
        if (plan.Header is not null)
        {
            ModelFileInspector.ApplyTo(plan.Header, model.Metadata);
        }

        // One file: its SHA-256 is the model's checksum. Several (split parts, shards): one per weight file.
        var weightNames = weightFiles.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var weightChecksums = checksums.Where(c => weightNames.Contains(Path.GetFileName(c.Key)))
            .ToDictionary(c => Path.GetFileName(c.Key), c => c.Value, StringComparer.Ordinal);
        if (weightChecksums.Count == 1)
        {
            model.Checksum ??= weightChecksums.Values.Single();
            model.AdditionalProperties.Remove(ModelValidator.FileChecksumsKey);
        }
        else
        {
            model.AdditionalProperties[ModelValidator.FileChecksumsKey] = weightChecksums;
        }

        model.AdditionalProperties["import_source"] = plan.Target;
        model.AdditionalProperties["import_mode"] = plan.Mode.ToString().ToLowerInvariant();
        library.Models.Upsert(model);
        ForgetReplacedCopy(plan, localFiles, note, cancellationToken);
        return await library.GetAsync(plan.Id, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Once the new files are registered: drops the cached headers of the destination and of the replaced copy, and
    /// deletes the replaced copy's files inside the library.
    /// </summary>
    void ForgetReplacedCopy(ImportPlan plan, IReadOnlyList<string> newFiles, Action<string>? note, CancellationToken cancellationToken)
    {
        // A copy keeps its source's last-write time, so a file of the same size overwritten at the destination would
        // still match the stamps of the entry cached for the file it replaced.
        library.MetadataCache.Remove(plan.LocalPath);
        if (plan.Existing?.LocalPath is not { } replacedPath || ModelFiles.TryEntryFile(replacedPath) is not { } replacedEntry)
        {
            // Nothing was replaced, or a folder holding several models: which files were this model's cannot be told.
            return;
        }

        library.MetadataCache.Remove(replacedEntry);
        if (!library.IsOutsideLibrary(plan.Existing))
        {
            DeleteReplacedFiles(plan, replacedEntry, newFiles, note, cancellationToken);
        }
    }

    /// <summary>
    /// Deletes the files of the copy a -Force import replaced, which would otherwise stay behind as an unknown Local
    /// model. Runs only once the new files are in place and registered, so a failed import loses nothing. A file is
    /// kept when the new model uses it, when another registered model names it, or when it is not inside the library
    /// both as written and with links resolved (a file registered in place elsewhere is the user's).
    /// </summary>
    void DeleteReplacedFiles(ImportPlan plan, string replacedEntry, IReadOnlyList<string> newFiles, Action<string>? note, CancellationToken cancellationToken)
    {
        var roots = library.Configuration.WritableRoots;
        var otherModelPaths = library.Models.List()
            .Where(m => !string.Equals(m.Id, plan.Id, StringComparison.OrdinalIgnoreCase) && m.LocalPath is not null)
            .Select(m => m.LocalPath!).ToList();
        var replacedFiles = File.Exists(replacedEntry) ? ModelFiles.Parts(replacedEntry, TryInspect(replacedEntry, cancellationToken)) : Array.Empty<string>();
        foreach (var file in replacedFiles)
        {
            if (!File.Exists(file)
                || newFiles.Any(n => MayBeSameFile(n, file))
                || otherModelPaths.Any(other => MayBeSameFile(other, file) || PathContainment.IsInside(file, other))
                || !roots.Any(root => PathContainment.IsInsideAsWritten(file, root))
                || !PathContainment.IsInsideAny(file, roots))
            {
                continue;
            }

            try
            {
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                note?.Invoke($"'{plan.Id}' now uses '{plan.LocalPath}', but its earlier file '{file}' could not be deleted: {e.Message} Delete it by hand.");
            }
        }
    }

    /// <summary>
    /// Whether two paths may name one file: compared with links resolved and case ignored, since on Windows and macOS
    /// names differing only in case are one file. Errs towards "same", so a file in doubt is kept rather than deleted.
    /// </summary>
    static bool MayBeSameFile(string a, string b) =>
        string.Equals(PathContainment.RealPath(a), PathContainment.RealPath(b), StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// An id from the path (<see cref="ModelFileNames.IdFromPath"/>): the folder's name for a folder or a file with a
    /// generic name (model.safetensors, a shard index, pytorch_model.bin); else the file name without extension and
    /// split suffix; like the ids of files the library finds on disk.
    /// </summary>
    public static string SuggestId(string path) => ModelFileNames.IdFromPath(path, "imported-model");

    static ModelFileInfo? TryInspect(string path, CancellationToken cancellationToken)
    {
        try
        {
            return ModelFileInspector.Inspect(path, cancellationToken);
        }
        catch (ValidationException)
        {
            // Validation is turned off and the header cannot be read: registered without header metadata.
            return null;
        }
    }

    /// <summary>
    /// A folder import copies every file, not only the ones the model uses: a <c>checkpoint-500/optimizer.pt</c> beside
    /// <c>model.safetensors</c> is torch.load'ed by whoever resumes training. So every file a loader could unpickle is
    /// scanned before anything is copied (the entry was checked with the model), and an unsafe one refuses the import.
    /// </summary>
    /// <exception cref="ModelSecurityException">UnsafeModelContent.</exception>
    /// <exception cref="ValidationException">InvalidModelFile: a file named as a pickle that cannot be scanned.</exception>
    static void ScanFolderFiles(IEnumerable<string> files, string entry, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (string.Equals(file, entry, StringComparison.Ordinal))
            {
                continue;
            }

            PickleScanner.ScanCompanionFile(file, cancellationToken)?.ThrowIfUnsafe();
        }
    }

    /// <summary>Files of a model folder, in sub-folders too; hidden entries (.git, .cache) and linked folders are left out.</summary>
    static List<string> FolderFiles(string folder)
    {
        var files = new List<string>();
        void Walk(DirectoryInfo directory)
        {
            foreach (var file in directory.EnumerateFiles().Where(f => !f.Name.StartsWith('.')).OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                files.Add(file.FullName);
            }

            foreach (var sub in directory.EnumerateDirectories().Where(d => !d.Name.StartsWith('.') && d.LinkTarget is null).OrderBy(d => d.Name, StringComparer.Ordinal))
            {
                Walk(sub);
            }
        }

        Walk(new DirectoryInfo(folder));
        return files;
    }

    static async Task<Dictionary<string, string>> HashAllAsync(ImportPlan plan, CancellationToken cancellationToken)
    {
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in plan.SourceFiles)
        {
            checksums[file] = await Sha256Checksum.OfFileAsync(file, cancellationToken).ConfigureAwait(false);
        }

        VerifyCatalogChecksum(checksums, plan);
        return checksums;
    }

    /// <summary>
    /// Copies (or moves) every file to a temporary name beside its destination, checks the catalog's checksum, then
    /// renames them all; on any failure the temporary files go and, for a move, the files go back.
    /// </summary>
    async Task<Dictionary<string, string>> TransferAsync(ImportPlan plan, CancellationToken cancellationToken)
    {
        var staged = new List<(string Source, string Temporary, string Destination)>();
        var checksums = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var source in plan.SourceFiles)
            {
                var destination = Path.Combine(plan.TargetDirectory!, Path.GetRelativePath(plan.SourceRoot, source));
                var folder = Path.GetDirectoryName(destination)!;
                Configuration.PrivateFiles.CreateDirectory(folder);
                PathContainment.EnsureInside(folder, library.Configuration.WritableRoots);
                var temporary = Path.Combine(folder, $".{Path.GetFileName(destination)}.import-{Guid.NewGuid().ToString("n")[..8]}.tmp");
                if (plan.Mode == ImportMode.Move)
                {
                    File.Move(source, temporary);
                    staged.Add((source, temporary, destination));
                    checksums[source] = await Sha256Checksum.OfFileAsync(temporary, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    staged.Add((source, temporary, destination));
                    checksums[source] = await CopyWithHashAsync(source, temporary, cancellationToken).ConfigureAwait(false);
                }
            }

            VerifyCatalogChecksum(checksums, plan);
            foreach (var (_, temporary, destination) in staged)
            {
                File.Move(temporary, destination, overwrite: plan.Force);
            }

            return checksums;
        }
        catch
        {
            foreach (var (source, temporary, _) in staged)
            {
                try
                {
                    if (!File.Exists(temporary)) continue;
                    if (plan.Mode == ImportMode.Move && !File.Exists(source)) File.Move(temporary, source);
                    else File.Delete(temporary);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Best effort: the original error is the one worth reporting.
                }
            }

            throw;
        }
    }

    /// <summary>A file imported under a catalog id must be the file that catalog describes, when it publishes a checksum.</summary>
    static void VerifyCatalogChecksum(Dictionary<string, string> checksums, ImportPlan plan)
    {
        if (Sha256Checksum.Normalize(plan.CatalogEntry?.Checksum) is { } expected
            && checksums.TryGetValue(plan.SourceEntry, out var actual) && actual != expected)
        {
            throw Errors.ChecksumMismatch(plan.SourceEntry, expected, actual, plan.Id);
        }
    }

    static async Task<string> CopyWithHashAsync(string source, string destination, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan))
        await using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, FileOptions.Asynchronous))
        {
            var buffer = new byte[CopyBufferSize];
            int read;
            while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        File.SetLastWriteTimeUtc(destination, File.GetLastWriteTimeUtc(source));
        return Sha256Checksum.Format(hash.GetHashAndReset());
    }
}
