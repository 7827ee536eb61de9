using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Models;

/// <summary>Deletes a model's files and partial downloads; the model stays listed as Available when a catalog knows it.</summary>
[Cmdlet(VerbsCommon.Remove, "LibraryModel", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ModelInfo))]
public sealed class RemoveLibraryModelCommand : ModelLibraryCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ModelId")]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[] Id { get; set; } = Array.Empty<string>();

    /// <summary>Removes without asking for confirmation (unless -Confirm is given).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Writes the model as it stands after removal.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Guard(() => Remove(id), id);
        }
    }

    void Remove(string id)
    {
        var model = Run(ct => Service.GetAsync(id, ct));
        var paths = Service.PathsToRemove(model);
        var what = paths.Count == 0 ? "nothing on disk" : string.Join(", ", paths);
        // A model imported in place outside the library keeps its file: the library never deletes outside its folders.
        var external = Service.IsOutsideLibrary(model);
        // A link in the library goes as a link; what it leads to stays (the Hub cache, a file the user keeps elsewhere).
        var linkTarget = !external && model.LocalPath is { } local ? new FileInfo(local).LinkTarget : null;
        var action = external
            ? $"Unregister, keeping its file '{model.LocalPath}' (outside the library)" + (paths.Count == 0 ? "" : $", and delete {what}")
            : linkTarget is not null ? $"Delete {what} (the link only; '{linkTarget}', where it leads, stays)"
            : $"Delete {what}";
        if (!Confirmed(model.Id, action))
        {
            return;
        }

        var after = Run(ct => Service.RemoveAsync(model, ct));
        WriteVerbose(paths.Count == 0 ? $"'{model.Id}' had no files to delete." : $"Deleted {what}.");
        if (external)
        {
            WriteWarning($"'{model.Id}' was unregistered; its file '{model.LocalPath}' lies outside the library and was left where it is.");
        }
        else if (linkTarget is not null)
        {
            WriteWarning($"'{model.Id}' was unregistered; its file '{model.LocalPath}' was a link, which was deleted; '{linkTarget}', where it led, was left where it is.");
        }
        if (PassThru && after is not null)
        {
            WriteObject(after);
        }
    }

    bool Confirmed(string target, string action)
    {
        var confirmAsked = MyInvocation.BoundParameters.ContainsKey("Confirm");
        var whatIf = MyInvocation.BoundParameters.TryGetValue("WhatIf", out var w) && ((SwitchParameter)w).IsPresent;
        // -Force skips the prompt that ConfirmImpact High brings, as Remove-Item -Force users expect; -WhatIf still wins.
        return (Force && !confirmAsked && !whatIf) || ShouldProcess(target, action);
    }
}
