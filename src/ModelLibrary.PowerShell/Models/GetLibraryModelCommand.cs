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

    protected override void ProcessRecord()
    {
        var query = new ModelQuery { Id = Id, Name = Name, Provider = Provider, Status = Status, Capability = Capability, Source = Source };
        var exact = Id is { Length: > 0 } && Id.All(i => !WildcardPattern.ContainsWildcardCharacters(i));
        if (exact)
        {
            // One id or reference at a time, without listing every catalog and the disk (a Hub reference asks the Hub).
            foreach (var id in Id!)
            {
                Guard(() =>
                {
                    var lookup = Run(ct => Service.DescribeAsync(id, ct));
                    WriteWarnings(lookup.Warnings);
                    var filter = query with { Id = null };
                    WriteObject(lookup.Models.Where(filter.Matches), enumerateCollection: true);
                }, id);
            }

            return;
        }

        Guard(() =>
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

            WriteObject(listing.Models.Where(query.Matches), enumerateCollection: true);
        });
    }
}
