using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.Compatibility;

/// <summary>
/// Whether each provider's runtime answers (probed in parallel with short timeouts, answers cached for 30 s) and
/// which compatible models it has locally or could download; the seed's integration status.
/// </summary>
[Cmdlet(VerbsCommon.Get, "ProviderIntegrationStatus")]
[OutputType(typeof(IntegrationStatus))]
public sealed class GetProviderIntegrationStatusCommand : ModelLibraryCmdlet
{
    /// <summary>Only these providers (wildcards allowed); the totals then cover only them.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProviderCompleter))]
    public string[]? Provider { get; set; }

    /// <summary>Probes again instead of using answers from the last 30 seconds.</summary>
    [Parameter]
    public SwitchParameter Refresh { get; set; }

    protected override void EndProcessing() => Guard(() =>
    {
        var registry = Service.ProviderRegistry;
        var known = registry.List();
        var patterns = Provider?.Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
        foreach (var name in Provider ?? Array.Empty<string>())
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name) && !known.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
            {
                WriteLibraryError(registry.NotFound(name));
            }
        }

        if (patterns is not null && !known.Any(p => patterns.Any(pattern => pattern.IsMatch(p.Name))))
        {
            return;
        }

        WriteObject(Run(async ct =>
        {
            var models = (await Service.ListAsync(ct).ConfigureAwait(false)).Models;
            return await Service.Compatibility.GetIntegrationStatusAsync(models, Refresh, ct,
                patterns is null ? null : p => patterns.Any(pattern => pattern.IsMatch(p.Name))).ConfigureAwait(false);
        }));
    });
}

/// <summary>
/// The seed's integration test: discovers models, checks each provider's compatible models, validates the library
/// folders and the registry file, and checks each provider's health. Outputs one IntegrationTestStep per step and a
/// non-terminating IntegrationStepFailed error per failed step; with -Quiet only $true or $false (the library is
/// usable: models found, folders writable, registry readable, and some provider healthy with a compatible model).
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "ModelLibraryIntegration")]
[OutputType(typeof(IntegrationTestStep))]
[OutputType(typeof(bool))]
public sealed class TestModelLibraryIntegrationCommand : ModelLibraryCmdlet
{
    const int ProgressId = 1;

    /// <summary>Outputs only whether the test passed, and writes no errors.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Probes every provider again instead of using answers from the last 30 seconds.</summary>
    [Parameter]
    public SwitchParameter Refresh { get; set; }

    protected override void EndProcessing() => Guard(() =>
    {
        var selfTest = Service.CreateSelfTest();
        // Discover, a compatibility check and a health check per provider, directories, registry.
        var total = 3 + 2 * Service.ProviderRegistry.List().Count;
        var done = 0;
        var report = Run(ct => selfTest.RunAsync(Refresh, new InlineProgress<IntegrationTestStep>(step => Post(() => Report(step, ++done, total))), ct));
        WriteProgress(new ProgressRecord(ProgressId, "Testing the model library integration", "Done") { RecordType = ProgressRecordType.Completed });
        WriteVerbose($"{report.Passed} of {report.Steps.Length} steps passed in {report.Duration.TotalSeconds:0.0} s; the library is {(report.Success ? "" : "not ")}usable.");
        if (Quiet)
        {
            WriteObject(report.Success);
        }
    });

    void Report(IntegrationTestStep step, int done, int total)
    {
        WriteProgress(new ProgressRecord(ProgressId, "Testing the model library integration", $"{step.Name}: {(step.Success ? "passed" : "failed")}")
        {
            PercentComplete = Math.Min(100, done * 100 / Math.Max(1, total)),
        });
        if (Quiet)
        {
            return;
        }

        WriteObject(step);
        if (!step.Success)
        {
            WriteLibraryError(Errors.IntegrationStepFailed(step.Name, step.Message, step.Duration.TotalSeconds,
                step.ResolutionSteps, step, step.Data as Exception), step);
        }
    }
}
