namespace ModelLibrary;

/// <summary>
/// The seed's error response (<c>{"error": {type, message, details, resolution_steps}}</c>) as a typed object,
/// carried by every <see cref="ModelLibraryException"/>.
/// </summary>
public sealed class ErrorInfo
{
    public ErrorInfo(string type, string message, IReadOnlyDictionary<string, object?>? details, IReadOnlyList<string>? resolutionSteps)
    {
        Type = type;
        Message = message;
        Details = details ?? new Dictionary<string, object?>();
        ResolutionSteps = resolutionSteps ?? Array.Empty<string>();
    }

    /// <summary>The seed's error type name, e.g. <c>DiskSpaceError</c>.</summary>
    public string Type { get; }
    public string Message { get; }
    public IReadOnlyDictionary<string, object?> Details { get; }
    public IReadOnlyList<string> ResolutionSteps { get; }

    public override string ToString() => $"{Type}: {Message}";
}
