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
}
