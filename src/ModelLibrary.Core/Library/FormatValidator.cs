using ModelLibrary.Configuration;
using ModelLibrary.Downloads;
using ModelLibrary.Formats;

namespace ModelLibrary.Library;

/// <summary>
/// What a downloaded file must pass before it lands in a provider folder: its header reads as the format it
/// claims, and (when security scanning is on) pickle content imports nothing outside the allowlist.
/// </summary>
public sealed class FormatValidator : IModelFileValidator
{
    readonly Func<LibraryConfiguration> configuration;

    public FormatValidator(Func<LibraryConfiguration> configuration) => this.configuration = configuration;

    public Task ValidateAsync(string path, ModelInfo model, CancellationToken cancellationToken) => Task.Run(() =>
    {
        var info = ModelFileInspector.Inspect(path, cancellationToken);
        if (model.Format is { } expected && !string.Equals(expected, info.FormatName, StringComparison.OrdinalIgnoreCase))
        {
            throw ValidationException.InvalidFile(path, $"the catalog says {expected}, but the file is {info.FormatName}");
        }

        if (configuration().EnableSecurityScanning)
        {
            ModelFileInspector.ThrowIfUnsafe(info);
        }
    }, cancellationToken);
}
