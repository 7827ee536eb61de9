using System.Management.Automation;
using ModelLibrary.Compatibility;
using ModelLibrary.Library;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Compatibility;

/// <summary>
/// Checks whether models can run on a provider on this machine: format, required capabilities, size limits and
/// memory (RAM and GPU memory, with the KV cache at -ContextLength) block; memory margin, expected speed and quality
/// rank the ones that fit. Outputs one ModelCompatibility per model
/// with the reasons and what to do about them.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ProviderCompatibility")]
[OutputType(typeof(ModelCompatibility))]
public sealed class TestProviderCompatibilityCommand : ModelLibraryCmdlet
{
    ModelListing? listing;

    /// <summary>Model ids (wildcards allowed); ModelInfo objects bind by their Id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[] ModelId { get; set; } = Array.Empty<string>();

    [Parameter(Mandatory = true)]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string Provider { get; set; } = "";

    /// <summary>Bytes of memory to score against instead of this machine's RAM (e.g. 8GB), to size another machine.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long? MaxMemory { get; set; }

    /// <summary>Tokens of context to size the key/value cache for (e.g. 32768); default: each model's, at most 4096.</summary>
    [Parameter]
    [ValidateRange(1, 10_000_000)]
    public long? ContextLength { get; set; }

    protected override void BeginProcessing()
    {
        // An unknown provider fails every model alike, so it stops the command once instead of erring per model.
        try
        {
            Service.ProviderRegistry.Get(Provider);
        }
        catch (ModelLibraryException e)
        {
            ThrowLibraryError(e, Provider);
        }
    }

    protected override void ProcessRecord()
    {
        foreach (var id in ModelId)
        {
            Guard(() =>
            {
                // One read of catalogs, registry and disk per call, however many ids come down the pipeline.
                listing ??= Run(ct => Service.ListAsync(ct));
                var pattern = new WildcardPattern(id, WildcardOptions.IgnoreCase);
                var matches = WildcardPattern.ContainsWildcardCharacters(id)
                    ? listing.Models.Where(m => pattern.IsMatch(m.Id)).ToList()
                    : listing.Models.Where(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase)).Take(1).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(id))
                {
                    // A reference (hf.co/...) no listing holds: what the source says of it, nothing downloaded.
                    if (!ModelLibrary.ModelReference.LooksLikeReference(id))
                    {
                        throw Errors.ModelNotFound(id);
                    }

                    var lookup = Run(ct => Service.DescribeAsync(id, ct));
                    WriteWarnings(lookup.Warnings);
                    matches = lookup.Models.ToList();
                }

                foreach (var model in matches)
                {
                    WriteObject(Service.Compatibility.CheckCompatibility(model, Provider, listing.Models, MaxMemory, ContextLength));
                }
            }, id);
        }
    }
}

/// <summary>
/// Suggests the known models that suit a provider on this machine, rated by compatibility score:
/// Excellent (score ≥ 0.8), Good (≥ 0.6) and Acceptable (≥ 0.4); compatible models scoring lower are only in
/// Models. Models already downloaded are marked (IsLocal) and come first among equal scores.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ProviderModelSuggestion")]
[OutputType(typeof(ProviderSuggestions))]
public sealed class GetProviderModelSuggestionCommand : ModelLibraryCmdlet
{
    ModelListing? listing;

    /// <summary>The provider; ProviderCapabilities objects (Get-ModelProvider) bind by their Name.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string Provider { get; set; } = "";

    /// <summary>Bytes of memory to score against instead of this machine's RAM (e.g. 8GB).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long? MaxMemory { get; set; }

    /// <summary>Leaves out models whose download is larger than this many bytes (e.g. 4GB).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long? MaxSize { get; set; }

    /// <summary>Tokens of context to size the key/value cache for (e.g. 32768); default: each model's, at most 4096.</summary>
    [Parameter]
    [ValidateRange(1, 10_000_000)]
    public long? ContextLength { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        listing ??= Run(ct => Service.ListAsync(ct));
        WriteObject(Service.Compatibility.GetSuggestions(Provider, listing.Models, new SuggestionOptions { MaxMemory = MaxMemory, MaxSize = MaxSize, ContextLength = ContextLength }));
    }, Provider);
}
