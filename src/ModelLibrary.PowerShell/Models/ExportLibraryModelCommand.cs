using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;
using ModelLibrary.Library;
using ModelLibrary.Sources.Stores;

namespace ModelLibrary.PowerShell.Models;

/// <summary>
/// Makes Local models usable by Ollama or by huggingface_hub where those tools look for models, hard-linked when on
/// the same file system (else a verified copy): an Ollama manifest and blob, or a Hub cache entry. Writes an ExportResult.
/// </summary>
[Cmdlet(VerbsData.Export, "LibraryModel", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ExportResult))]
public sealed class ExportLibraryModelCommand : ModelLibraryCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ModelId")]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[] Id { get; set; } = Array.Empty<string>();

    /// <summary>The tool: Ollama or HuggingFaceCache.</summary>
    [Parameter(Mandatory = true)]
    [ValidateSet(ModelExporter.Ollama, ModelExporter.HuggingFaceCache, IgnoreCase = true)]
    public string To { get; set; } = "";

    /// <summary>The tool's store folder (default: $OLLAMA_MODELS or ~/.ollama/models; $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub).</summary>
    [Parameter]
    public string? Path { get; set; }

    /// <summary>The name the tool will know the model by: [host/][namespace/]model[:tag] for Ollama, &lt;owner&gt;/&lt;repo&gt; for the Hub cache.</summary>
    [Parameter]
    public string? Name { get; set; }

    /// <summary>Replaces an Ollama model of the same name.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var exporter = new ModelExporter(Service);
        var root = Path is null ? null : GetUnresolvedProviderPathFromPSPath(Path);
        if (Name is not null && Id.Length > 1)
        {
            WriteLibraryError(Errors.InvalidModelId(Name, Id, "a name for several models: -Name names one model", "Export one -Id at a time with -Name, or leave -Name out to name each model from its id."));
            return;
        }

        foreach (var id in Id)
        {
            Guard(() =>
            {
                var to = string.Equals(To, ModelExporter.Ollama, StringComparison.OrdinalIgnoreCase) ? ModelExporter.Ollama : ModelExporter.HuggingFaceCache;
                var plan = Run(ct => exporter.PlanAsync(id, to, root, Name, ct));
                if (plan.Note is not null)
                {
                    WriteWarning(plan.Note);
                }

                if (!ShouldProcess(plan.Model.Id, plan.Description))
                {
                    return;
                }

                var result = Run(ct => exporter.ExportAsync(plan, Force, ct));
                WriteVerbose(result.Linked ? $"'{result.ModelId}' shares its bytes with the library (hard link): no second copy on disk." : $"'{result.ModelId}' was copied (another file system, or links refused) and the copy verified.");
                WriteObject(result);
            }, id);
        }
    }
}

/// <summary>
/// Replaces identical model files (same size and SHA-256) across the library and the registered stores, on one file
/// system, with hard links of one file; -WhatIf tells what it would save. Writes an OptimizeResult.
/// </summary>
[Cmdlet(VerbsCommon.Optimize, "ModelLibrary", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(OptimizeResult))]
public sealed class OptimizeModelLibraryCommand : ModelLibraryCmdlet
{
    protected override void EndProcessing() => Guard(() =>
    {
        if (!LibraryOptimizer.Supported)
        {
            WriteWarning("Optimize-ModelLibrary tells identical files apart by device and inode, which this version reads on Linux, macOS and Windows only; nothing was changed.");
            WriteObject(LibraryOptimizer.Summarize(Array.Empty<LibraryOptimizer.LinkPlan>(), whatIf: true));
            return;
        }

        var optimizer = new LibraryOptimizer(Service);
        var progress = new ProgressRecord(1, "Optimize-ModelLibrary", "Comparing files");
        var plans = Run(ct => optimizer.PlanAsync(new InlineProgress<string>(path => Post(() =>
        {
            progress.StatusDescription = $"Hashing {path}";
            WriteProgress(progress);
        })), ct));
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);

        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
        var approved = plans.Where(p => ShouldProcess(p.Replace, $"Replace with a hard link of the identical '{p.Keep}'" + (p.Saves > 0 ? $" (saves {ByteSize.Format(p.Saves)})" : ""))).ToList();
        WriteObject(whatIf ? LibraryOptimizer.Summarize(plans, whatIf: true) : optimizer.Run(approved));
    });
}
