using System.Management.Automation;
using ModelLibrary.Library;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.ModelFiles;

/// <summary>
/// Registers a model file already on disk (a file, any part of a split GGUF or sharded safetensors model, or a
/// model folder): validates it, reads its header into the model's metadata, copies it (default), moves it (-Move),
/// or leaves it where it is (-InPlace), and writes the registered model.
/// </summary>
[Cmdlet(VerbsData.Import, "LibraryModel", DefaultParameterSetName = CopySet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ModelInfo))]
public sealed class ImportLibraryModelCommand : ModelLibraryCmdlet
{
    const string CopySet = "Copy";
    const string MoveSet = "Move";
    const string InPlaceSet = "InPlace";

    /// <summary>Files already imported in this call as parts of an earlier model (the other parts of a piped split set).</summary>
    readonly HashSet<string> handled = new(StringComparer.Ordinal);

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath", "LiteralPath")]
    [SupportsWildcards]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Defaults to the catalog's provider for a catalog id, else from the format: gguf → llama-cpp; safetensors, pytorch → transformers.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string? Provider { get; set; }

    /// <summary>Defaults to the file name (or folder name), lower-cased, with letters, digits, '.', '_' and '-' only.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string? Id { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = MoveSet)]
    public SwitchParameter Move { get; set; }

    /// <summary>Register the file where it is. Outside the library, Remove-LibraryModel then only unregisters it.</summary>
    [Parameter(Mandatory = true, ParameterSetName = InPlaceSet)]
    public SwitchParameter InPlace { get; set; }

    /// <summary>Replace a model that is already Local, and files already at the destination.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var importer = new ModelImporter(Service);
        var mode = Move ? ImportMode.Move : InPlace ? ImportMode.InPlace : ImportMode.Copy;
        foreach (var path in Path.SelectMany(p => FileSystemPaths.Resolve(this, p)))
        {
            if (handled.Contains(path))
            {
                WriteVerbose($"'{path}' was imported already, as part of a model named earlier in this call.");
                continue;
            }

            Guard(() =>
            {
                var request = new ImportRequest { Path = path, Id = Id, Provider = Provider, Mode = mode, Force = Force };
                var plan = Run(ct => importer.PlanAsync(request, ct));
                handled.UnionWith(plan.SourceFiles);
                if (!ShouldProcess(plan.Target, plan.Action))
                {
                    return;
                }

                var model = Run(ct => importer.ImportAsync(plan, ct, message => Post(() => WriteWarning(message))));
                WriteVerbose($"Registered '{model.Id}' at '{model.LocalPath}'.");
                WriteObject(model);
            }, path);
        }
    }
}
