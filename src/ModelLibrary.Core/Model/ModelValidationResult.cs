using System.Text.Json.Serialization;
using ModelLibrary.Formats;

namespace ModelLibrary;

/// <summary>How one validation check ended.</summary>
public enum ValidationOutcome
{
    Passed,
    Failed,
    /// <summary>The check could not run or did not apply (no checksum known, scanning turned off, ...).</summary>
    Skipped,
    /// <summary>Worth knowing, but not a reason to distrust the file.</summary>
    Warning,
}

/// <summary>One check of a model file: checksum, format, size, path containment or security scan.</summary>
public sealed class ValidationCheck
{
    public ValidationCheck(string name, ValidationOutcome outcome, string message, string? errorId = null)
    {
        Name = name;
        Outcome = outcome;
        Message = message;
        ErrorId = outcome == ValidationOutcome.Failed ? errorId : null;
    }

    /// <summary>One of the names in <see cref="ValidationCheckNames"/>.</summary>
    public string Name { get; }
    public ValidationOutcome Outcome { get; }
    public string Message { get; }
    /// <summary>For a failed check, the ErrorId the failure is reported with (ChecksumMismatch, InvalidModelFile, UnsafeModelContent).</summary>
    public string? ErrorId { get; }

    public override string ToString() => $"{Name}: {Outcome} ({Message})";
}

/// <summary>The names of the checks, in the order they are reported.</summary>
public static class ValidationCheckNames
{
    public const string PathContainment = nameof(PathContainment);
    public const string Format = nameof(Format);
    public const string Size = nameof(Size);
    public const string Checksum = nameof(Checksum);
    public const string SecurityScan = nameof(SecurityScan);
}

/// <summary>Every check of one model (or one file), and whether it can be trusted.</summary>
public sealed class ModelValidationResult
{
    /// <summary>The library model tested; null when a bare file was tested.</summary>
    public string? ModelId { get; set; }
    /// <summary>The file tested (for a multi-file model, the file that names the others: first split part or shard index).</summary>
    public string Path { get; set; } = "";
    /// <summary>True when no check failed (warnings and skipped checks do not fail a model).</summary>
    public bool Passed => Checks.All(c => c.Outcome != ValidationOutcome.Failed);
    public ValidationCheck[] Checks { get; set; } = Array.Empty<ValidationCheck>();
    /// <summary>The tool whose store holds the tested model's file (see <see cref="ModelInfo.ExternalStore"/>); its files are never quarantined.</summary>
    public string? ExternalStore { get; set; }
    /// <summary>Where the failing model's file now lies in quarantine, when it was moved there.</summary>
    public string? QuarantinePath { get; set; }
    /// <summary>The header as read by the format check, when it could be read.</summary>
    [JsonIgnore]
    public ModelFileInfo? Header { get; set; }

    public IEnumerable<ValidationCheck> Failures => Checks.Where(c => c.Outcome == ValidationOutcome.Failed);

    public ValidationCheck? this[string name] => Checks.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    public override string ToString() => $"{ModelId ?? Path}: {(Passed ? "Passed" : "Failed")}";
}
