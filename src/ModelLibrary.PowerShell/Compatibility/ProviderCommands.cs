using System.Collections;
using System.Management.Automation;
using ModelLibrary.Compatibility;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Compatibility;

/// <summary>Lists the providers (inference runtimes): the built-ins and those registered in this library.</summary>
[Cmdlet(VerbsCommon.Get, "ModelProvider")]
[OutputType(typeof(ProviderCapabilities))]
public sealed class GetModelProviderCommand : ModelLibraryCmdlet
{
    /// <summary>Names or wildcard patterns; an exact name that matches nothing is a ProviderNotFound error.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        var registry = Service.ProviderRegistry;
        var providers = registry.List();
        WriteWarnings(registry.Warnings);
        var patterns = (Name ?? new[] { "*" }).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        WriteObject(providers.Where(p => patterns.Any(pattern => pattern.IsMatch(p.Name))), enumerateCollection: true);
        foreach (var name in Name ?? Array.Empty<string>())
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name) && !providers.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                WriteLibraryError(registry.NotFound(name));
            }
        }
    });
}

/// <summary>
/// Adds a provider definition (the seed's ProviderCapabilities) to this library's registry, from a hashtable, a JSON
/// text or a JSON file. Keys are the seed's (supported_formats, memory_requirements, ...) or their PascalCase forms.
/// A name that is built in or already registered is replaced only with -Force.
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "ModelProvider", SupportsShouldProcess = true, DefaultParameterSetName = DefinitionSet)]
[OutputType(typeof(ProviderCapabilities))]
public sealed class RegisterModelProviderCommand : ModelLibraryCmdlet
{
    const string DefinitionSet = "Definition";
    const string PathSet = "Path";
    const string JsonSet = "Json";

    /// <summary>The definition as a hashtable; nested tables for memory_requirements, model_size_limits, health_check...</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = DefinitionSet)]
    public IDictionary? Definition { get; set; }

    /// <summary>JSON files holding one definition each.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("FullName")]
    public string[]? Path { get; set; }

    /// <summary>The definition as JSON text.</summary>
    [Parameter(Mandatory = true, ParameterSetName = JsonSet)]
    public string? Json { get; set; }

    /// <summary>Replaces a registered provider, or overrides a built-in one, of the same name.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case PathSet:
                foreach (var path in Path!)
                {
                    var resolved = GetUnresolvedProviderPathFromPSPath(path);
                    Guard(() => Register(ProviderDefinition.ReadFile(resolved)), resolved);
                }

                break;
            case JsonSet:
                Guard(() => Register(ProviderDefinition.ParseJson(Json!)));
                break;
            default:
                Guard(() => Register(ProviderDefinition.Parse((IDictionary)PlainValues.Unwrap(Definition)!)));
                break;
        }
    }

    /// <summary>The definition is read (and so validated) before asking, so -WhatIf reports a bad one too.</summary>
    void Register(ProviderCapabilities provider)
    {
        var registry = Service.ProviderRegistry;
        var exists = registry.Exists(provider.Name);
        if (exists && !Force)
        {
            // Nothing to confirm: Core refuses a taken name without Force (ProviderExists), also under -WhatIf.
            registry.Register(provider, force: false);
            return;
        }

        if (ShouldProcess($"{provider.Name} ({string.Join(", ", provider.SupportedFormats)})", exists ? "Replace provider definition" : "Register provider definition"))
        {
            WriteObject(registry.Register(provider, Force));
        }
    }
}

/// <summary>
/// Removes a registered provider. A built-in that the registration overrode comes back; built-ins themselves
/// cannot be removed.
/// </summary>
[Cmdlet(VerbsLifecycle.Unregister, "ModelProvider", SupportsShouldProcess = true)]
public sealed class UnregisterModelProviderCommand : ModelLibraryCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        foreach (var name in Name)
        {
            Guard(() =>
            {
                if (ShouldProcess(name, "Unregister provider definition"))
                {
                    Service.ProviderRegistry.Unregister(name);
                }
            }, name);
        }
    }
}
