using System.Management.Automation;
using ModelLibrary.Library;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Models;

/// <summary>Lists the models of every source with their state in this library.</summary>
[Cmdlet(VerbsCommon.Get, "LibraryModel")]
[OutputType(typeof(ModelInfo))]
public sealed class GetLibraryModelCommand : ModelLibraryCmdlet
{
    ModelListing? listing;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ModelId")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[]? Id { get; set; }

    [Parameter]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string[]? Provider { get; set; }

    [Parameter]
    public ModelStatus[]? Status { get; set; }

    [Parameter]
    public string[]? Capability { get; set; }

    [Parameter]
    [SupportsWildcards]
    public string[]? Source { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        if (listing is null)
        {
            // One read of catalogs, registry and disk per call, however many ids come down the pipeline.
            listing = Run(ct => Service.ListAsync(ct));
            foreach (var line in listing.Diagnostics)
            {
                WriteVerbose(line);
            }

            WriteWarnings(Service.WarningsOnce(listing));
        }

        var query = new ModelQuery { Id = Id, Name = Name, Provider = Provider, Status = Status, Capability = Capability, Source = Source };
        WriteObject(listing.Models.Where(query.Matches), enumerateCollection: true);

        foreach (var id in Id ?? Array.Empty<string>())
        {
            if (!WildcardPattern.ContainsWildcardCharacters(id) && !listing.Models.Any(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase)))
            {
                WriteLibraryError(Errors.ModelNotFound(id));
            }
        }
    });
}
