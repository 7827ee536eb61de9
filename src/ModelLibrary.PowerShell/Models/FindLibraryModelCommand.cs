using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Models;

/// <summary>
/// Searches the Hugging Face Hub (HF_ENDPOINT, or a registered HuggingFace source): one ModelInfo per repository,
/// Id hf.co/&lt;owner&gt;/&lt;repo&gt;, most downloaded first. Pipe a result to Get-LibraryModel to see its
/// quantizations, or to Start-ModelDownload.
/// </summary>
[Cmdlet(VerbsCommon.Find, "LibraryModel")]
[OutputType(typeof(ModelInfo))]
public sealed class FindLibraryModelCommand : ModelLibraryCmdlet
{
    /// <summary>Words to search for in repository names.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    public string? Query { get; set; }

    /// <summary>Only repositories of this format (a Hub library tag: gguf, safetensors, ...).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(FormatCompleter))]
    public string? Format { get; set; }

    /// <summary>At most this many repositories (default 20).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int First { get; set; } = 20;

    protected override void ProcessRecord() => Guard(() =>
        WriteObject(Run(ct => Service.SearchAsync(Query, Format?.ToLowerInvariant(), First, ct)), enumerateCollection: true), Query);
}
