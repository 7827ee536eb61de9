using ModelLibrary.Library;
using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;
using ModelLibrary.Sources.Oci;

namespace ModelLibrary.PowerShell.Publishing;

/// <summary>
/// Pushes Local models to an OCI registry, verified first (checksum, format, security scan), as CNCF ModelPack
/// (default), Docker Model Runner or Ollama; blobs the registry has are not sent; the manifest goes last.
/// </summary>
[Cmdlet(VerbsData.Publish, "LibraryModel", SupportsShouldProcess = true)]
[OutputType(typeof(PublishResult))]
public sealed class PublishLibraryModelCommand : ModelLibraryCmdlet
{
    const int ProgressId = 4711;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ModelId")]
    [ArgumentCompleter(typeof(ModelIdCompleter))]
    public string[] Id { get; set; } = Array.Empty<string>();

    /// <summary><c>&lt;registry&gt;/&lt;repository&gt;[:&lt;tag&gt;]</c>.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(OciReferenceCompleter))]
    public string Destination { get; set; } = "";

    [Parameter]
    public OciModelFormat Format { get; set; } = OciModelFormat.ModelPack;

    /// <summary>Login for the registry; else the registered Oci source's, else Docker's config.json.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var id in Id)
        {
            Guard(() => Publish(id), id);
        }
    }

    void Publish(string id)
    {
        var publisher = new OciPublisher(Service);
        // Verifying reads the whole file: it runs for -WhatIf too, so what -WhatIf promises is what would happen.
        var plan = Run(ct => publisher.PlanAsync(id, Destination, Format, ct));
        var action = $"Publish {plan.Blobs.Count} blobs ({ByteSize.Format(plan.Size)}) as {plan.Format}";
        if (!ShouldProcess($"{plan.Model.Id} -> {plan.Destination}", action))
        {
            return;
        }

        var credential = Credential is null ? null
            : new RegistryCredential(Credential.UserName, Credential.GetNetworkCredential().Password, "-Credential");
        var activity = $"Publishing {plan.Model.Id} to {plan.Destination}";
        var lastReport = DateTime.MinValue;
        var progress = new InlineProgress<PublishProgress>(p =>
        {
            var now = DateTime.UtcNow;
            if (now - lastReport < TimeSpan.FromMilliseconds(250) && p.AllDone < p.AllTotal)
            {
                return;
            }

            lastReport = now;
            var percent = p.AllTotal > 0 ? (int)Math.Clamp(p.AllDone * 100 / p.AllTotal, 0, 100) : 0;
            Post(() => WriteProgress(new ProgressRecord(ProgressId, activity, $"{p.Digest[..19]}: {ByteSize.Format(p.Done)} of {ByteSize.Format(p.Total)}") { PercentComplete = percent }));
        });
        try
        {
            var result = Run(ct => publisher.PushAsync(plan, credential, progress, ct));
            WriteObject(result);
        }
        finally
        {
            WriteProgress(new ProgressRecord(ProgressId, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }
}
