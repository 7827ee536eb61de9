using System.Globalization;
using ModelLibrary.Configuration;
using ModelLibrary.Files;
using ModelLibrary.Formats;

namespace ModelLibrary.Validation;

/// <summary>
/// Integrity and security checks of a model file: path containment, format and header, declared size, SHA-256, and
/// a pickle scan. The download engine calls <see cref="ValidateFileAsync"/> and <see cref="ThrowIfFailed"/> before a
/// model becomes Local; <c>Test-LibraryModel</c> and <c>Import-LibraryModel</c> use the same checks, so a file is
/// judged the same way however it arrived. Checks never load a model: headers are parsed and pickles are walked.
/// </summary>
public static class ModelValidator
{
    /// <summary>
    /// Runs every check on <paramref name="path"/> (a file, or a model folder) against what <paramref name="model"/>
    /// declares (Size, Checksum, Format; any of them may be null). Format and size checks run when
    /// <see cref="LibraryConfiguration.EnableModelValidation"/> is on, the checksum also needs
    /// <paramref name="verifyChecksum"/>, and containment and the pickle scan run when
    /// <see cref="LibraryConfiguration.EnableSecurityScanning"/> is on. Failures are reported in the result, not thrown.
    /// </summary>
    public static async Task<ModelValidationResult> ValidateFileAsync(string path, ModelInfo? model, LibraryConfiguration configuration,
        bool verifyChecksum, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(configuration);
        var entry = Path.GetFullPath(path);
        var result = new ModelValidationResult { ModelId = model?.Id, Path = entry };
        var checks = new List<ValidationCheck>();

        var containment = CheckContainment(entry, configuration);
        checks.Add(containment);
        if (containment.Outcome == ValidationOutcome.Failed)
        {
            // A path that leads out of the library is not opened at all.
            const string why = "Not run: the path leaves the library's directories.";
            checks.Add(new ValidationCheck(ValidationCheckNames.Format, ValidationOutcome.Skipped, why));
            checks.Add(new ValidationCheck(ValidationCheckNames.Size, ValidationOutcome.Skipped, why));
            checks.Add(new ValidationCheck(ValidationCheckNames.Checksum, ValidationOutcome.Skipped, why));
            checks.Add(new ValidationCheck(ValidationCheckNames.SecurityScan, ValidationOutcome.Skipped, why));
            result.Checks = checks.ToArray();
            return result;
        }

        try
        {
            entry = ModelFiles.EntryFile(entry);
            result.Path = entry;
        }
        catch (ValidationException e)
        {
            checks.Add(new ValidationCheck(ValidationCheckNames.Format, ValidationOutcome.Failed, e.Message, e.ErrorId));
            result.Checks = checks.ToArray();
            return result;
        }

        ModelFileInfo? header = null;
        if (!File.Exists(entry))
        {
            checks.Add(new ValidationCheck(ValidationCheckNames.Format, ValidationOutcome.Failed, $"'{entry}' does not exist.", ErrorIds.InvalidModelFile));
        }
        else if (!configuration.EnableModelValidation)
        {
            checks.Add(new ValidationCheck(ValidationCheckNames.Format, ValidationOutcome.Skipped, "Model validation is turned off (ENABLE_MODEL_VALIDATION)."));
        }
        else
        {
            (header, var formatCheck) = CheckFormat(entry, model, cancellationToken);
            checks.Add(formatCheck);
        }

        result.Header = header;
        var parts = ModelFiles.Parts(entry, header);
        if (configuration.EnableSecurityScanning)
        {
            // The parts a header names (shards, split parts) must stay inside the library as well.
            foreach (var part in parts.Where(p => !string.Equals(p, entry, StringComparison.Ordinal)))
            {
                var partCheck = CheckContainment(part, configuration);
                if (partCheck.Outcome == ValidationOutcome.Failed)
                {
                    checks[0] = partCheck;
                    break;
                }
            }
        }

        checks.Add(configuration.EnableModelValidation
            ? CheckSize(entry, parts, header, model)
            : new ValidationCheck(ValidationCheckNames.Size, ValidationOutcome.Skipped, "Model validation is turned off (ENABLE_MODEL_VALIDATION)."));

        checks.Add(!verifyChecksum
            ? new ValidationCheck(ValidationCheckNames.Checksum, ValidationOutcome.Skipped, "Not asked for: the caller verified the checksum already.")
            : !configuration.EnableModelValidation
                ? new ValidationCheck(ValidationCheckNames.Checksum, ValidationOutcome.Skipped, "Model validation is turned off (ENABLE_MODEL_VALIDATION).")
                : await CheckChecksumAsync(entry, parts, model, cancellationToken).ConfigureAwait(false));

        checks.Add(configuration.EnableSecurityScanning
            ? CheckPickles(entry, model?.FileName, header, cancellationToken)
            : new ValidationCheck(ValidationCheckNames.SecurityScan, ValidationOutcome.Skipped, "Security scanning is turned off (ENABLE_SECURITY_SCANNING)."));

        result.Checks = checks.ToArray();
        return result;
    }

    /// <summary>Throws the error of the most serious failed check (unsafe content, then checksum, then invalid file); returns when all passed.</summary>
    /// <exception cref="ModelSecurityException">UnsafeModelContent.</exception>
    /// <exception cref="ValidationException">ChecksumMismatch or InvalidModelFile.</exception>
    public static void ThrowIfFailed(ModelValidationResult result)
    {
        if (ToException(result) is { } exception)
        {
            throw exception;
        }
    }

    const string RemoveStep = "Remove it with Remove-LibraryModel.";

    /// <summary>The error that stands for the result's failures, or null when it passed.</summary>
    public static ModelLibraryException? ToException(ModelValidationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var failures = result.Failures.ToList();
        if (failures.Count == 0)
        {
            return null;
        }

        var primary = failures.OrderBy(f => Severity(f.ErrorId)).First();
        var subject = result.ModelId is null ? $"'{result.Path}'" : $"The model '{result.ModelId}'";
        var message = $"{subject} failed validation: {primary.Message}" +
            (failures.Count > 1 ? $" ({failures.Count - 1} more failed check(s): {string.Join(", ", failures.Where(f => f != primary).Select(f => f.Name))}.)" : "") +
            (result.QuarantinePath is null ? "" : $" It was moved to quarantine: '{result.QuarantinePath}'.");
        var details = new Dictionary<string, object?>
        {
            ["model_id"] = result.ModelId,
            ["path"] = result.Path,
            ["failed_checks"] = failures.Select(f => f.Name).ToArray(),
            ["quarantine_path"] = result.QuarantinePath,
        };
        object target = result.ModelId ?? (object)result.Path;
        return primary.ErrorId switch
        {
            ErrorIds.UnsafeModelContent => Errors.UnsafeModelContent(message, target, details, RemoveStep),
            ErrorIds.ChecksumMismatch => Errors.ChecksumMismatch(message, target, details, RemoveStep),
            _ => Errors.InvalidModelFile(message, target, details, RemoveStep),
        };
    }

    /// <summary>
    /// Moves a model's files into <c>quarantine/&lt;id&gt;/</c> (the id as <see cref="ModelNames.FolderName"/> writes it) (or <c>quarantine/&lt;id&gt;/&lt;n&gt;/</c> when an
    /// earlier quarantine holds the same names), never overwriting, and returns where <paramref name="entry"/> went.
    /// Both ends are checked to lie inside the library; nothing outside it is ever moved.
    /// </summary>
    /// <exception cref="ModelSecurityException">UnsafeModelContent: a file lies (or leads) outside the library's directories.</exception>
    public static string Quarantine(string entry, IReadOnlyList<string> files, string modelId, LibraryConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(configuration);
        // A reference (hf.co/owner/repo:Q4_K_M, registry/ns/repo:tag) is a folder name as its model folder is.
        var folderName = ModelNames.FolderName(modelId);
        if (!ModelNames.IsValidId(folderName))
        {
            throw Errors.InvalidModelId(modelId);
        }

        var sources = files.Select(Path.GetFullPath).Where(File.Exists).Distinct(StringComparer.Ordinal).ToList();
        foreach (var source in sources)
        {
            if (!configuration.WritableRoots.Any(r => PathContainment.IsInsideAsWritten(source, r)))
            {
                throw Errors.PathOutsideRoot(source, string.Join(Path.PathSeparator, configuration.WritableRoots));
            }

            PathContainment.EnsureInside(source, configuration.WritableRoots);
        }

        var baseFolder = Path.Combine(configuration.QuarantineDirectory, folderName);
        var folder = baseFolder;
        for (var n = 2; sources.Any(s => File.Exists(Path.Combine(folder, Path.GetFileName(s)))); n++)
        {
            folder = Path.Combine(baseFolder, n.ToString(CultureInfo.InvariantCulture));
        }

        Configuration.PrivateFiles.CreateDirectory(folder);
        PathContainment.EnsureInside(folder, configuration.WritableRoots);
        var entryFull = Path.GetFullPath(entry);
        var moved = entryFull;
        foreach (var source in sources)
        {
            var destination = Path.Combine(folder, Path.GetFileName(source));
            File.Move(source, destination, overwrite: false);
            if (string.Equals(source, entryFull, StringComparison.Ordinal))
            {
                moved = destination;
            }
        }

        return moved;
    }

    static int Severity(string? errorId) => errorId switch
    {
        ErrorIds.UnsafeModelContent => 0,
        ErrorIds.ChecksumMismatch => 1,
        _ => 2,
    };

    /// <summary>
    /// A path written inside the library that resolves outside it (a link leading out) fails. A path written outside
    /// every root is a model registered in place (<c>Import-LibraryModel -InPlace</c>): a warning, since the library
    /// only reads it and never moves or deletes it.
    /// </summary>
    static ValidationCheck CheckContainment(string path, LibraryConfiguration configuration)
    {
        const string name = ValidationCheckNames.PathContainment;
        if (!configuration.EnableSecurityScanning)
        {
            return new ValidationCheck(name, ValidationOutcome.Skipped, "Security scanning is turned off (ENABLE_SECURITY_SCANNING).");
        }

        var roots = configuration.WritableRoots;
        var real = PathContainment.RealPath(path);
        if (roots.Any(r => PathContainment.IsInsideAsWritten(path, r)))
        {
            return PathContainment.IsInsideAny(path, roots)
                ? new ValidationCheck(name, ValidationOutcome.Passed, "The path and any links along it stay inside the library.")
                : new ValidationCheck(name, ValidationOutcome.Failed,
                    $"'{path}' resolves to '{real}', outside the library's directories (a symbolic link leads out).", ErrorIds.UnsafeModelContent);
        }

        return new ValidationCheck(name, ValidationOutcome.Warning,
            $"'{path}' lies outside the library's directories; the library reads it but never moves or deletes it.");
    }

    static (ModelFileInfo? Header, ValidationCheck Check) CheckFormat(string entry, ModelInfo? model, CancellationToken cancellationToken)
    {
        const string name = ValidationCheckNames.Format;
        ModelFileInfo header;
        try
        {
            header = ModelFileInspector.Inspect(entry, cancellationToken);
        }
        catch (ValidationException e)
        {
            return (null, new ValidationCheck(name, ValidationOutcome.Failed, e.Message, e.ErrorId));
        }
        catch (IOException e)
        {
            return (null, new ValidationCheck(name, ValidationOutcome.Failed, $"'{entry}' could not be read: {e.Message}", ErrorIds.InvalidModelFile));
        }

        if (header.Format == ModelFileFormat.Unknown)
        {
            return (header, new ValidationCheck(name, ValidationOutcome.Failed,
                $"'{entry}' is not a GGUF, safetensors or PyTorch file: its first bytes match none of their formats.", ErrorIds.InvalidModelFile));
        }

        var declared = model?.Format?.ToLowerInvariant();
        if (declared is ModelFileNames.Gguf or ModelFileNames.Safetensors or ModelFileNames.PyTorch && declared != header.FormatName)
        {
            return (header, new ValidationCheck(name, ValidationOutcome.Failed,
                $"The model declares the format '{declared}', but '{entry}' is a {header.FormatName} file.", ErrorIds.InvalidModelFile));
        }

        var summary = new List<string> { header.FormatVersion ?? header.FormatName };
        if (header.Architecture is { } architecture) summary.Add(architecture);
        if (header.TensorCount is { } tensors) summary.Add($"{tensors} tensors");
        if (header.PartCount > 1) summary.Add($"{header.PartCount} parts");
        return (header, new ValidationCheck(name, ValidationOutcome.Passed, $"Header read: {string.Join(", ", summary)}."));
    }

    static ValidationCheck CheckSize(string entry, IReadOnlyList<string> parts, ModelFileInfo? header, ModelInfo? model)
    {
        const string name = ValidationCheckNames.Size;
        if (!File.Exists(entry))
        {
            return new ValidationCheck(name, ValidationOutcome.Skipped, "The file does not exist.");
        }

        var actual = header?.TotalSize ?? parts.Where(File.Exists).Sum(FileKinds.Length);
        var notes = new List<string>();
        if (header?.ExpectedMinimumFileSize is { } minimum)
        {
            // The minimum is the first part's (for a split model, each part's reader checks its own).
            var first = header.Parts.Count > 0 ? header.Parts[0] : entry;
            var firstSize = File.Exists(first) ? FileKinds.Length(first) : header.FileSize;
            if (firstSize < minimum)
            {
                return new ValidationCheck(name, ValidationOutcome.Failed,
                    $"'{first}' has {firstSize} bytes, but its tensors need at least {minimum}: the file is truncated.", ErrorIds.InvalidModelFile);
            }

            notes.Add($"its tensors need {minimum} bytes of it");
        }

        if (model?.Size is { } declared)
        {
            if (declared != actual)
            {
                return new ValidationCheck(name, ValidationOutcome.Failed,
                    $"The model declares {declared} bytes ({ByteSize.Format(declared)}), but its file(s) hold {actual} ({ByteSize.Format(actual)}).", ErrorIds.InvalidModelFile);
            }

            notes.Insert(0, $"matches the declared {declared} bytes");
        }

        if (notes.Count == 0)
        {
            return new ValidationCheck(name, ValidationOutcome.Skipped, $"No size is declared for the model and the header gives no minimum ({actual} bytes on disk).");
        }

        return new ValidationCheck(name, ValidationOutcome.Passed, $"{actual} bytes on disk; {string.Join("; ", notes)}.");
    }

    static async Task<ValidationCheck> CheckChecksumAsync(string entry, IReadOnlyList<string> parts, ModelInfo? model, CancellationToken cancellationToken)
    {
        const string name = ValidationCheckNames.Checksum;
        if (!File.Exists(entry))
        {
            return new ValidationCheck(name, ValidationOutcome.Skipped, "The file does not exist.");
        }

        // A catalog's checksum is the one file it serves; an imported multi-file model records one per file.
        if (Sha256Checksum.Normalize(model?.Checksum) is { } expected)
        {
            var actual = await Sha256Checksum.OfFileAsync(entry, cancellationToken).ConfigureAwait(false);
            return actual == expected
                ? new ValidationCheck(name, ValidationOutcome.Passed, $"SHA-256 of '{Path.GetFileName(entry)}' matches {expected}.")
                : new ValidationCheck(name, ValidationOutcome.Failed, Errors.ChecksumMismatch(entry, expected, actual, model?.Id).Message, ErrorIds.ChecksumMismatch);
        }

        if (FileChecksums(model) is { Count: > 0 } perFile)
        {
            foreach (var part in parts)
            {
                if (!perFile.TryGetValue(Path.GetFileName(part), out var partExpected) || Sha256Checksum.Normalize(partExpected) is not { } want)
                {
                    continue;
                }

                var actual = File.Exists(part) ? await Sha256Checksum.OfFileAsync(part, cancellationToken).ConfigureAwait(false) : "missing";
                if (actual != want)
                {
                    return new ValidationCheck(name, ValidationOutcome.Failed, Errors.ChecksumMismatch(part, want, actual, model?.Id).Message, ErrorIds.ChecksumMismatch);
                }
            }

            return new ValidationCheck(name, ValidationOutcome.Passed, $"SHA-256 of {perFile.Count} file(s) match the checksums recorded at import.");
        }

        return new ValidationCheck(name, ValidationOutcome.Skipped,
            model is null ? "No checksum to compare with (pass -Checksum to verify one)." : $"No checksum is known for the model '{model.Id}'; its source does not publish one.");
    }

    /// <summary>Per-file checksums recorded when a multi-file model was imported (<c>file_checksums</c>: file name → sha256).</summary>
    public static IReadOnlyDictionary<string, string>? FileChecksums(ModelInfo? model)
    {
        if (model is null || !model.AdditionalProperties.TryGetValue(FileChecksumsKey, out var value) || value is null)
        {
            return null;
        }

        return value switch
        {
            IReadOnlyDictionary<string, string> typed => typed,
            IDictionary<string, object?> plain => plain.Where(p => p.Value is string).ToDictionary(p => p.Key, p => (string)p.Value!, StringComparer.Ordinal),
            _ => null,
        };
    }

    /// <summary>The key under <see cref="ModelInfo.AdditionalProperties"/> holding per-file checksums of an imported multi-file model.</summary>
    public const string FileChecksumsKey = "file_checksums";

    /// <param name="declaredName">
    /// The model's own file name: a download is checked while it is still named <c>.partial</c>, so the extension
    /// that says "pickle" is the declared name's.
    /// </param>
    static ValidationCheck CheckPickles(string entry, string? declaredName, ModelFileInfo? header, CancellationToken cancellationToken)
    {
        const string name = ValidationCheckNames.SecurityScan;
        PickleScanResult? scan = header?.Pickle;
        if (scan is null)
        {
            // A name that says pickle is what makes torch.load or pickle.load open the file, from its first byte, whatever
            // else the file also is: such a file is scanned as a pickle even when it reads as GGUF or safetensors.
            bool namedPickle = File.Exists(entry) && (ModelFileNames.IsPickle(entry) || (declaredName is not null && ModelFileNames.IsPickle(declaredName)));
            bool otherFormat = header is not null && header.Format != ModelFileFormat.Unknown;
            if (!namedPickle)
            {
                return new ValidationCheck(name, ValidationOutcome.Skipped,
                    otherFormat ? $"Nothing to scan: {header!.FormatName} files hold no pickled code." : "Nothing to scan: not a pickle-based file.");
            }

            try
            {
                scan = PickleScanner.Scan(entry, cancellationToken);
            }
            catch (ValidationException e)
            {
                return otherFormat
                    ? new ValidationCheck(name, ValidationOutcome.Skipped, $"Nothing to scan: a {header!.FormatName} file, and not a pickle despite its name.")
                    : new ValidationCheck(name, ValidationOutcome.Failed,
                        $"'{entry}' has a pickle file's name but could not be scanned, so it cannot be shown safe: {e.Message}", ErrorIds.InvalidModelFile);
            }

            if (otherFormat)
            {
                return new ValidationCheck(name, ValidationOutcome.Failed,
                    $"'{entry}' is both a {header!.FormatName} file and a pickle that torch.load would unpickle from its first byte, so it cannot be shown safe.",
                    ErrorIds.UnsafeModelContent);
            }
        }

        return scan.DescribeUnsafeContent() is { } unsafeContent
            ? new ValidationCheck(name, ValidationOutcome.Failed, $"'{entry}' holds {unsafeContent}.", ErrorIds.UnsafeModelContent)
            : new ValidationCheck(name, ValidationOutcome.Passed, $"Pickle scan: {scan.Globals.Count} import(s), all on the allowlist.");
    }
}
