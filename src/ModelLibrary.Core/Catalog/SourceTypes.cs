namespace ModelLibrary.Catalog;

/// <summary>
/// Source types that live above the catalog (other tools' stores, in <c>Sources/</c>): how to open a registration of
/// one, and the tool's own default folder for a type (null when the type has none, or is not one of these).
/// </summary>
public sealed record SourceTypes(Func<ModelSourceInfo, IModelSource?> Open, Func<string, string?> DefaultFolder);
