namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>
/// Error ids that only the PowerShell host raises (Core never does, so they are not in Core's ErrorCatalogue): a
/// prompt that cannot be answered, and the DSC resources' own refusals (raised by ModelLibraryDsc.psm1 by name).
/// </summary>
public static class HostErrorIds
{
    /// <summary>A cmdlet would ask for confirmation in a run that has no console to answer (a CI step, redirected input).</summary>
    public const string ConfirmationRequired = nameof(ConfirmationRequired);
    /// <summary>A desired state (DSC) that the library cannot bring about, e.g. a checksum or provider the source does not offer.</summary>
    public const string DesiredStateUnreachable = nameof(DesiredStateUnreachable);
    /// <summary>The DSC v3 resource got an instance that is not a JSON object with a string id.</summary>
    public const string InvalidDscInstance = nameof(InvalidDscInstance);
}
