namespace ModelLibrary.Library;

/// <summary>The filters of <c>Get-LibraryModel</c>. Every filter given must match; within one filter any value may.</summary>
public sealed record ModelQuery
{
    /// <summary>Ids, wildcards allowed.</summary>
    public IReadOnlyList<string>? Id { get; init; }
    /// <summary>Names, wildcards allowed.</summary>
    public IReadOnlyList<string>? Name { get; init; }
    public IReadOnlyList<string>? Provider { get; init; }
    public IReadOnlyList<ModelStatus>? Status { get; init; }
    /// <summary>The model must have every capability listed.</summary>
    public IReadOnlyList<string>? Capability { get; init; }
    public IReadOnlyList<string>? Source { get; init; }

    public bool Matches(ModelInfo model) =>
        AnyGlob(Id, model.Id) &&
        AnyGlob(Name, model.Name) &&
        AnyGlob(Provider, model.Provider) &&
        (Status is null || Status.Count == 0 || Status.Contains(model.Status)) &&
        (Capability is null || Capability.All(c => model.Capabilities.Contains(c, StringComparer.OrdinalIgnoreCase))) &&
        AnyGlob(Source, model.Source);

    static bool AnyGlob(IReadOnlyList<string>? patterns, string? value) =>
        patterns is null || patterns.Count == 0 || patterns.Any(p => new Glob(p).IsMatch(value));
}
