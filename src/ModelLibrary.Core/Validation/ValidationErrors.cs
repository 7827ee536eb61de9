namespace ModelLibrary.Validation;

/// <summary>The errors of metadata, validation and import, built in one place so messages stay alike.</summary>
public static class ValidationErrors
{
    public static ModelLibraryException ModelNotLocal(ModelInfo model, string? why = null) => new(
        ErrorIds.ModelNotLocal, ErrorKind.InvalidOperation,
        why ?? $"The model '{model.Id}' has no file in this library (status {model.Status}).",
        new Dictionary<string, object?> { ["model_id"] = model.Id, ["status"] = model.Status.ToString(), ["local_path"] = model.LocalPath },
        new[] { $"Download it with Start-ModelDownload -Id {model.Id}, or register a file you have with Import-LibraryModel -Id {model.Id}." },
        model.Id);

    public static ModelLibraryException ModelExists(string id, string? localPath) => new(
        ErrorIds.ModelExists, ErrorKind.ResourceExists,
        $"A model with the id '{id}' is already in the library{(localPath is null ? "" : $" at '{localPath}'")}.",
        new Dictionary<string, object?> { ["model_id"] = id, ["local_path"] = localPath },
        new[] { "Choose another id with -Id, or replace the model with -Force." },
        id);

    public static ModelLibraryException InvalidModelId(string id) => new(
        ErrorIds.InvalidModelId, ErrorKind.InvalidArgument,
        $"'{Catalog.CatalogJson.Echo(id)}' is not a valid model id: use {Catalog.CatalogJson.NameRule} (at most 200 characters).",
        new Dictionary<string, object?> { ["model_id"] = id },
        new[] { "Pass a different -Id." },
        id);

    public static ModelLibraryException InvalidProviderName(string name) => new(
        ErrorIds.InvalidModelId, ErrorKind.InvalidArgument,
        $"'{Catalog.CatalogJson.Echo(name)}' is not a valid provider name: use {Catalog.CatalogJson.NameRule} (at most 64 characters).",
        new Dictionary<string, object?> { ["provider"] = name },
        new[] { "Pass a different -Provider; Get-ModelProvider lists the known ones." },
        name);

    public static ModelLibraryException DownloadInProgress(string id) => new(
        ErrorIds.DownloadInProgress, ErrorKind.InvalidOperation,
        $"The model '{id}' is being downloaded; it cannot be imported or replaced now.",
        new Dictionary<string, object?> { ["model_id"] = id },
        new[] { "Wait for the download (Wait-ModelDownload), or stop it (Stop-ModelDownload), then try again." },
        id);

    public static ValidationException ChecksumMismatch(string path, string expected, string actual, string? modelId) => new(
        ErrorIds.ChecksumMismatch,
        $"The SHA-256 of '{path}' is {actual}, but {(modelId is null ? "the expected one" : $"the model '{modelId}' declares")} {expected}.",
        modelId ?? (object)path,
        new Dictionary<string, object?> { ["path"] = path, ["expected"] = expected, ["actual"] = actual, ["model_id"] = modelId },
        new[] { "Download the model again (Start-ModelDownload -Force).", "Check that the source serves the file its catalog describes." });
}
