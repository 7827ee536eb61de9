using ModelLibrary.Configuration;
using ModelLibrary.Downloads;

namespace ModelLibrary.Validation;

/// <summary>
/// The download engine's last gate before a file lands in a provider folder: the same checks as
/// Test-LibraryModel (format and header, declared size, containment, pickle scan), without the checksum, which the
/// engine has already verified while the bytes arrived.
/// </summary>
public sealed class DownloadValidator : IModelFileValidator
{
    readonly Func<LibraryConfiguration> configuration;

    public DownloadValidator(Func<LibraryConfiguration> configuration) => this.configuration = configuration;

    public async Task ValidateAsync(string path, ModelInfo model, CancellationToken cancellationToken)
    {
        var result = await ModelValidator.ValidateFileAsync(path, model, configuration(), verifyChecksum: false, cancellationToken).ConfigureAwait(false);
        ModelValidator.ThrowIfFailed(result);
    }
}
