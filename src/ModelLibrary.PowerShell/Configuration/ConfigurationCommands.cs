using System.Management.Automation;
using ModelLibrary.Configuration;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Configuration;

/// <summary>Shows each effective setting, its environment variable, and where the value came from.</summary>
[Cmdlet(VerbsCommon.Get, "ModelLibraryConfiguration")]
[OutputType(typeof(ConfigurationSetting))]
public sealed class GetModelLibraryConfigurationCommand : ModelLibraryCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void ProcessRecord() => Guard(() =>
    {
        var patterns = (Name ?? new[] { "*" }).Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
        WriteObject(Configuration.Describe().Where(s => patterns.Any(p => p.IsMatch(s.Name) || p.IsMatch(s.Variable))), enumerateCollection: true);
    });
}

/// <summary>Changes settings for this session; the environment is not touched.</summary>
[Cmdlet(VerbsCommon.Set, "ModelLibraryConfiguration", SupportsShouldProcess = true, DefaultParameterSetName = "Set")]
[OutputType(typeof(ConfigurationSetting))]
public sealed class SetModelLibraryConfigurationCommand : ModelLibraryCmdlet
{
    [Parameter(ParameterSetName = "Set")]
    [Alias("MODELS_DIR")]
    public string? ModelsDirectory { get; set; }

    [Parameter(ParameterSetName = "Set")]
    public string? LlamaCppModelsDirectory { get; set; }

    [Parameter(ParameterSetName = "Set")]
    public string? TransformersModelsDirectory { get; set; }

    [Parameter(ParameterSetName = "Set")]
    [ValidateRange(SettingRanges.MaxConcurrentDownloadsMinimum, SettingRanges.MaxConcurrentDownloadsMaximum)]
    public int? MaxConcurrentDownloads { get; set; }

    /// <summary>Seconds a download may take in all.</summary>
    [Parameter(ParameterSetName = "Set")]
    [ValidateRange(SettingRanges.DownloadTimeoutMinimum, SettingRanges.DownloadTimeoutMaximum)]
    public int? DownloadTimeout { get; set; }

    [Parameter(ParameterSetName = "Set")]
    public bool? EnableModelValidation { get; set; }

    [Parameter(ParameterSetName = "Set")]
    public bool? EnableSecurityScanning { get; set; }

    [Parameter(ParameterSetName = "Set")]
    [ValidateRange(SettingRanges.DownloadConnectionsMinimum, SettingRanges.DownloadConnectionsMaximum)]
    public int? DownloadConnections { get; set; }

    [Parameter(ParameterSetName = "Set")]
    [ValidateRange(SettingRanges.DownloadStallTimeoutMinimum, SettingRanges.DownloadStallTimeoutMaximum)]
    public int? DownloadStallTimeout { get; set; }

    /// <summary>Bytes per second one download may take; 0 for no limit.</summary>
    [Parameter(ParameterSetName = "Set")]
    [ValidateRange(SettingRanges.DownloadMaxBytesPerSecondMinimum, SettingRanges.DownloadMaxBytesPerSecondMaximum)]
    public int? DownloadMaxBytesPerSecond { get; set; }

    /// <summary>Drops session changes and reads the environment again.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Reset")]
    public SwitchParameter Reset { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        try
        {
            LibraryConfiguration result;
            if (Reset)
            {
                if (!ShouldProcess("ModelLibrary configuration", "Reset to the environment's values"))
                {
                    return;
                }

                result = ModelLibrarySession.Reset();
            }
            else
            {
                string? Resolve(string? path) => path is null ? null : GetUnresolvedProviderPathFromPSPath(path);
                var changes = string.Join(", ", MyInvocation.BoundParameters.Keys.Where(k => k is not ("PassThru" or "WhatIf" or "Confirm" or "Verbose" or "Debug")));
                if (!ShouldProcess("ModelLibrary configuration", $"Set {changes}"))
                {
                    return;
                }

                result = ModelLibrarySession.Update(c => c.With(Resolve(ModelsDirectory), Resolve(LlamaCppModelsDirectory),
                    Resolve(TransformersModelsDirectory), MaxConcurrentDownloads, DownloadTimeout, EnableModelValidation,
                    EnableSecurityScanning, DownloadConnections, DownloadStallTimeout, DownloadMaxBytesPerSecond));
            }

            if (PassThru)
            {
                WriteObject(result.Describe(), enumerateCollection: true);
            }
        }
        catch (ModelLibraryException e)
        {
            ThrowLibraryError(e);
        }
    }
}
