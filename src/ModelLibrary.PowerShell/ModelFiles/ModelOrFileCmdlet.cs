using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.ModelFiles;

/// <summary>
/// The two ways to name what the model-file cmdlets read: a library model by -Id (strings and ModelInfo from the
/// pipeline), or files and model folders by -Path (FileInfo from Get-ChildItem).
/// </summary>
public abstract class ModelOrFileCmdlet : ModelLibraryCmdlet
{
    protected const string IdSet = "Id";
    protected const string PathSet = "Path";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ModelId")]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[] Id { get; set; } = Array.Empty<string>();

    /// <summary>Model files or model folders; wildcards allowed. Takes FileInfo objects from Get-ChildItem.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath", "LiteralPath")]
    [SupportsWildcards]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>
    /// The full path of an existing file or folder that <paramref name="id"/> names, when no model has that id;
    /// else null. A plain string piped in binds to -Id, so <c>'./model.gguf' | Get-ModelMetadata</c> would
    /// otherwise be a ModelNotFound error for what the user plainly meant as a file. Ids win: a model id that is
    /// also the name of a folder here still means the model.
    /// </summary>
    protected string? ExistingPathInsteadOf(string id)
    {
        if (FileSystemPaths.ExistingLiteral(this, id) is not { } literal)
        {
            return null;
        }

        try
        {
            Run(ct => Service.GetAsync(id, ct));
            return null;
        }
        catch (ModelLibraryException e) when (e.ErrorId == ErrorIds.ModelNotFound)
        {
            WriteVerbose($"No model has the id '{id}'; reading it as the path '{literal}'.");
            return literal;
        }
    }
}
