namespace ModelLibrary.Downloads;

/// <summary>
/// Checks a downloaded file (format, security) after its checksum matched and before it moves into the
/// provider folder. Throwing fails the download and deletes the file: throw <see cref="ValidationException"/>
/// or <see cref="ModelSecurityException"/> with the contract's ErrorId; anything else is reported as InvalidModelFile.
/// </summary>
public interface IModelFileValidator
{
    /// <param name="path">The verified file, still in <c>downloads/</c> (its name ends in <c>.partial</c>).</param>
    /// <param name="model">The model it should be; <see cref="ModelInfo.Format"/> tells which reader applies.</param>
    Task ValidateAsync(string path, ModelInfo model, CancellationToken cancellationToken);
}
