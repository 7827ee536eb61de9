using System.Globalization;

namespace ModelLibrary.Configuration;

/// <summary>
/// A whole-number setting: its name, environment variable, default and range, defined once in
/// <see cref="SettingRanges"/> and used by the environment parser, the session setter and the cmdlet's validation.
/// </summary>
public sealed record IntSetting(string Name, string Variable, int Default, int Minimum, int Maximum)
{
    /// <summary>The value, or InvalidConfiguration naming the variable when it is out of range.</summary>
    public int Check(int value) =>
        value < Minimum || value > Maximum ? throw Invalid(value.ToString(CultureInfo.InvariantCulture)) : value;

    /// <summary>The environment's text as a value; the default when there is none.</summary>
    public int Parse(string? text)
    {
        if (text is null)
        {
            return Default;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? Check(parsed) : throw Invalid(text);
    }

    ModelLibraryException Invalid(string value) =>
        Errors.InvalidConfiguration(Variable, value, $"it must be a whole number from {Minimum} to {Maximum}");
}

/// <summary>
/// The range of each whole-number setting. Constants, so the cmdlet's <c>[ValidateRange]</c> can name them; the
/// <see cref="IntSetting"/>s below are what the parser and the setter use.
/// </summary>
public static class SettingRanges
{
    public const int MaxConcurrentDownloadsMinimum = 1;
    public const int MaxConcurrentDownloadsMaximum = 64;
    public const int DownloadTimeoutMinimum = 1;
    public const int DownloadTimeoutMaximum = int.MaxValue;
    public const int DownloadConnectionsMinimum = 1;
    public const int DownloadConnectionsMaximum = 16;
    public const int DownloadStallTimeoutMinimum = 1;
    public const int DownloadStallTimeoutMaximum = 86400;
    public const int DownloadMaxBytesPerSecondMinimum = 0;
    public const int DownloadMaxBytesPerSecondMaximum = int.MaxValue;

    public static readonly IntSetting MaxConcurrentDownloads = new(nameof(MaxConcurrentDownloads), LibraryConfiguration.MaxConcurrentVariable,
        3, MaxConcurrentDownloadsMinimum, MaxConcurrentDownloadsMaximum);

    /// <summary>Seconds a whole download may take.</summary>
    public static readonly IntSetting DownloadTimeout = new(nameof(DownloadTimeout), LibraryConfiguration.TimeoutVariable,
        3600, DownloadTimeoutMinimum, DownloadTimeoutMaximum);

    /// <summary>Most connections to one host, shared by every download of the process.</summary>
    public static readonly IntSetting DownloadConnections = new(nameof(DownloadConnections), LibraryConfiguration.ConnectionsVariable,
        16, DownloadConnectionsMinimum, DownloadConnectionsMaximum);

    /// <summary>Seconds without a byte before a segment is restarted.</summary>
    public static readonly IntSetting DownloadStallTimeout = new(nameof(DownloadStallTimeout), LibraryConfiguration.StallTimeoutVariable,
        30, DownloadStallTimeoutMinimum, DownloadStallTimeoutMaximum);

    /// <summary>Bytes per second one download may take over all its connections; 0: no limit.</summary>
    public static readonly IntSetting DownloadMaxBytesPerSecond = new(nameof(DownloadMaxBytesPerSecond), LibraryConfiguration.MaxBytesPerSecondVariable,
        0, DownloadMaxBytesPerSecondMinimum, DownloadMaxBytesPerSecondMaximum);

    public static IReadOnlyList<IntSetting> All { get; } = new[] { MaxConcurrentDownloads, DownloadTimeout, DownloadConnections, DownloadStallTimeout, DownloadMaxBytesPerSecond };
}
