using System.Management.Automation;
using ModelLibrary.Catalog;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Sources;

/// <summary>Lists the model sources: the built-in catalog and the registered ones.</summary>
[Cmdlet(VerbsCommon.Get, "ModelSource")]
[OutputType(typeof(ModelSourceInfo))]
public sealed class GetModelSourceCommand : ModelLibraryCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        var sources = Service.Catalog.ListSources();
        var patterns = (Name ?? new[] { "*" }).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        WriteObject(sources.Where(s => patterns.Any(p => p.IsMatch(s.Name))), enumerateCollection: true);
        foreach (var name in Name ?? Array.Empty<string>())
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name) && !sources.Any(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                WriteLibraryError(Errors.ModelSourceNotFound(name));
            }
        }
    });
}

/// <summary>
/// Adds a catalog (HTTP(S) URL or JSON file) whose models join Get-LibraryModel, a Hugging Face Hub endpoint
/// (-Type HuggingFace, with -Credential whose password is the token) that hf.co/ references use, an OCI registry
/// (-Type Oci, -Uri https://&lt;registry&gt;, with -Credential for its login) whose tags Get-LibraryModel lists, or another
/// tool's store read in place (-Type OllamaStore, HuggingFaceCache, LMStudio, Directory; -Uri the folder, default the tool's own).
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "ModelSource", SupportsShouldProcess = true)]
[OutputType(typeof(ModelSourceInfo))]
public sealed class RegisterModelSourceCommand : ModelLibraryCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    /// <summary>The catalog's URL or file, the Hub's endpoint, or a store's folder (optional for OllamaStore, HuggingFaceCache and LMStudio).</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Url", "Path")]
    public string? Uri { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet(ModelCatalog.FileType, ModelCatalog.HttpType, ModelCatalog.HuggingFaceType, ModelCatalog.OciType, ModelCatalog.OllamaStoreType, ModelCatalog.HuggingFaceCacheType, ModelCatalog.LMStudioType, ModelCatalog.DirectoryType, IgnoreCase = true)]
    public string? Type { get; set; }

    /// <summary>
    /// For a HuggingFace source: the token as the password (the user name is not used); for an Oci source: the
    /// registry login (user name and password or token). Stored in registry.db.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Allows plain http to a host that is not loopback.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter AllowInsecureHttp { get; set; }

    /// <summary>Replaces a source of the same name.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        var uri = string.IsNullOrWhiteSpace(Uri) ? null
            : System.Uri.TryCreate(Uri, UriKind.Absolute, out var parsed) && !parsed.IsFile ? Uri : GetUnresolvedProviderPathFromPSPath(Uri);
        if (!ShouldProcess(Name, $"Register model source at {uri ?? $"the default {Type} folder"}"))
        {
            return;
        }

        var credential = Credential is null ? null : new Registry.SourceCredential(
            string.IsNullOrEmpty(Credential.UserName) ? null : Credential.UserName, Credential.GetNetworkCredential().Password);
        var source = Service.Catalog.Register(Name, uri, Type, AllowInsecureHttp, Force, credential);
        Service.InvalidateCatalog();
        if (source.Type is ModelCatalog.HuggingFaceType)
        {
            WriteObject(source);
            return;
        }

        // Registering does not depend on the network, but saying now that the catalog cannot be read saves a surprise later.
        try
        {
            var result = Run(ct => Service.Catalog.Open(source).ReadAsync(ct));
            WriteWarnings(result.Warnings);
            WriteVerbose($"Model source '{source.Name}' lists {result.Models.Count} models.");
        }
        catch (ModelLibraryException e)
        {
            WriteWarning(e.Message);
        }

        WriteObject(source);
    }, Name);
}

/// <summary>Removes a registered model source; its models leave the listing unless they are local.</summary>
[Cmdlet(VerbsLifecycle.Unregister, "ModelSource", SupportsShouldProcess = true)]
public sealed class UnregisterModelSourceCommand : ModelLibraryCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    public string[] Name { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            Guard(() =>
            {
                if (ShouldProcess(name, "Unregister model source"))
                {
                    Service.Catalog.Unregister(name);
                    Service.InvalidateCatalog();
                }
            }, name);
        }
    }
}
