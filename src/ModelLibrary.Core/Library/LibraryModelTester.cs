using ModelLibrary.Files;
using ModelLibrary.Validation;

namespace ModelLibrary.Library;

/// <summary>
/// Validates the library's models (Test-LibraryModel): runs <see cref="ModelValidator"/> on a model's file against
/// what its catalog declares and, for a model that fails, moves its files into quarantine and marks its registry row
/// Error. Testing and quarantining are separate calls so the host can ask for confirmation in between.
/// </summary>
public sealed class LibraryModelTester
{
    readonly ModelLibraryService library;

    public LibraryModelTester(ModelLibraryService library) => this.library = library;

    /// <summary>Validates a library model's file. Changes nothing.</summary>
    /// <exception cref="ModelLibraryException">ModelNotFound; ModelNotLocal when the model has no file here.</exception>
    public async Task<ModelValidationResult> TestAsync(string id, CancellationToken cancellationToken)
    {
        var model = await library.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var path = LocalFileOf(model);
        var result = await ModelValidator.ValidateFileAsync(path, model, library.Configuration, verifyChecksum: true, cancellationToken).ConfigureAwait(false);
        result.ExternalStore = model.ExternalStore;
        return result;
    }

    /// <summary>
    /// For a failed model in another tool's store: the ExternalStore error that stands in for quarantine (its file is
    /// neither moved nor marked); null otherwise.
    /// </summary>
    public async Task<ModelLibraryException?> QuarantineRefusalAsync(ModelValidationResult result, CancellationToken cancellationToken)
    {
        if (result.Passed || result.ModelId is null || result.ExternalStore is null)
        {
            return null;
        }

        var model = await library.GetAsync(result.ModelId, cancellationToken).ConfigureAwait(false);
        return Errors.ExternalStore(model, "quarantine");
    }

    /// <summary>Validates any file, optionally against a known checksum. Changes nothing.</summary>
    public Task<ModelValidationResult> TestFileAsync(string path, string? checksum, CancellationToken cancellationToken)
    {
        var expected = checksum is null ? null : Sha256Checksum.Normalize(checksum)
            ?? throw new ArgumentException($"'{checksum}' is not a SHA-256 checksum; write it as sha256:<64 hex digits>.", nameof(checksum));
        var declared = expected is null ? null : new ModelInfo { Id = Path.GetFileName(path), Checksum = expected };
        return TestFileCoreAsync(path, declared, cancellationToken);
    }

    async Task<ModelValidationResult> TestFileCoreAsync(string path, ModelInfo? declared, CancellationToken cancellationToken)
    {
        var result = await ModelValidator.ValidateFileAsync(path, declared, library.Configuration, verifyChecksum: true, cancellationToken).ConfigureAwait(false);
        result.ModelId = null;
        return result;
    }

    /// <summary>
    /// What <see cref="QuarantineAsync"/> would do for a failed result, for a confirmation prompt; null when the result
    /// passed or the model is already in quarantine.
    /// </summary>
    public string? DescribeQuarantine(ModelValidationResult result)
    {
        if (result.Passed || result.ModelId is null || IsInQuarantine(result.Path) || result.ExternalStore is not null)
        {
            return null;
        }

        return CanMove(result)
            ? $"Move '{result.Path}' to quarantine ('{Path.Combine(library.Configuration.QuarantineDirectory, ModelNames.FolderName(result.ModelId))}') and mark the model Error"
            : $"Mark the model Error (its file '{result.Path}' is left where it is: the library never moves files outside its directories)";
    }

    /// <summary>
    /// For a failed model: moves its files into <c>quarantine/&lt;id&gt;/</c> (only when they lie inside the library),
    /// then sets its registry row to Error with the reason and the new LocalPath. Sets <see cref="ModelValidationResult.QuarantinePath"/>.
    /// </summary>
    public async Task<ModelValidationResult> QuarantineAsync(ModelValidationResult result, CancellationToken cancellationToken)
    {
        if (DescribeQuarantine(result) is null)
        {
            return result;
        }

        var model = await library.GetAsync(result.ModelId!, cancellationToken).ConfigureAwait(false);
        string? movedTo = null;
        if (CanMove(result))
        {
            movedTo = ModelValidator.Quarantine(result.Path, ModelFiles.Parts(result.Path, result.Header), model.Id, library.Configuration);
            result.QuarantinePath = movedTo;
        }

        var failures = result.Failures.ToList();
        var reason = $"Failed validation ({string.Join(", ", failures.Select(f => f.Name))}): {failures[0].Message}" +
            (movedTo is null ? "" : $" Quarantined at '{movedTo}'.");
        library.Models.Update(model.Id, () => model.Clone(), row =>
        {
            row.Status = ModelStatus.Error;
            row.StatusMessage = reason;
            if (movedTo is not null)
            {
                row.LocalPath = movedTo;
            }
        });
        return result;
    }

    /// <summary>The model's file or folder; throws ModelNotLocal when it has none on disk.</summary>
    public static string LocalFileOf(ModelInfo model)
    {
        if (model.LocalPath is null)
        {
            throw Errors.ModelNotLocal(model);
        }

        if (!File.Exists(model.LocalPath) && !Directory.Exists(model.LocalPath) && new FileInfo(model.LocalPath).LinkTarget is null)
        {
            throw Errors.ModelNotLocal(model, $"The file of the model '{model.Id}' is missing: '{model.LocalPath}'.");
        }

        return model.LocalPath;
    }

    bool IsInQuarantine(string path) => PathContainment.IsInsideAsWritten(path, library.Configuration.QuarantineDirectory);

    /// <summary>Files are moved only when they lie inside the library as written and as resolved (no link leads out).</summary>
    bool CanMove(ModelValidationResult result)
    {
        var roots = library.Configuration.WritableRoots;
        // A folder whose model file could not be told (several models in it) is marked Error but not taken apart.
        return File.Exists(result.Path) && ModelFiles.Parts(result.Path, result.Header).All(p =>
            roots.Any(r => PathContainment.IsInsideAsWritten(p, r)) && PathContainment.IsInsideAny(p, roots));
    }
}
