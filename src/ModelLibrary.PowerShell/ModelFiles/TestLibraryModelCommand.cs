using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;
using ModelLibrary.Library;
using ModelLibrary.Validation;

namespace ModelLibrary.PowerShell.ModelFiles;

/// <summary>
/// Checks library models (or any files) for integrity and safety: path containment, format and header, declared
/// size, SHA-256 against the catalog, and a pickle scan. Writes one result per model; a model that fails is moved
/// to quarantine/&lt;id&gt;/ and marked Error (unless -NoQuarantine; -WhatIf shows the move without making it), and
/// a non-terminating error (ChecksumMismatch, InvalidModelFile, UnsafeModelContent) follows its result.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "LibraryModel", DefaultParameterSetName = IdSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ModelValidationResult))]
public sealed class TestLibraryModelCommand : ModelOrFileCmdlet
{
    /// <summary>With -Path: the SHA-256 the file must have (sha256:&lt;hex&gt; or bare hex).</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidatePattern("^(sha256:)?[0-9a-fA-F]{64}$")]
    public string? Checksum { get; set; }

    /// <summary>Report only: a failing model stays where it is and its status is not changed.</summary>
    [Parameter(ParameterSetName = IdSet)]
    public SwitchParameter NoQuarantine { get; set; }

    protected override void ProcessRecord()
    {
        var tester = new LibraryModelTester(Service);
        if (ParameterSetName == IdSet)
        {
            foreach (var id in Id)
            {
                if (ExistingPathInsteadOf(id) is { } file)
                {
                    Guard(() => Report(Run(ct => tester.TestFileAsync(file, Checksum, ct)), file), file);
                    continue;
                }

                Guard(() =>
                {
                    var result = Run(ct => tester.TestAsync(id, ct));
                    if (!NoQuarantine && tester.DescribeQuarantine(result) is { } action && ShouldProcess(result.ModelId, action))
                    {
                        result = Run(ct => tester.QuarantineAsync(result, ct));
                    }

                    Report(result, id);
                    // Another tool's file is never moved: say so rather than quarantine it (-NoQuarantine asks for nothing).
                    if (!NoQuarantine && Run(ct => tester.QuarantineRefusalAsync(result, ct)) is { } refusal)
                    {
                        WriteLibraryError(refusal, id);
                    }
                }, id);
            }

            return;
        }

        foreach (var path in Path.SelectMany(p => FileSystemPaths.Resolve(this, p)))
        {
            Guard(() => Report(Run(ct => tester.TestFileAsync(path, Checksum, ct)), path), path);
        }
    }

    /// <summary>The result first, then the error, so -ErrorAction Stop still leaves the result in the output.</summary>
    void Report(ModelValidationResult result, string target)
    {
        foreach (var warning in result.Checks.Where(c => c.Outcome == ValidationOutcome.Warning))
        {
            WriteVerbose($"{warning.Name}: {warning.Message}");
        }

        WriteObject(result);
        if (ModelValidator.ToException(result) is { } error)
        {
            WriteLibraryError(error, target);
        }
    }
}
