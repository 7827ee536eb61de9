using ModelLibrary.Catalog;

namespace ModelLibrary.Sources.Stores;

/// <summary>The other tools' stores as source types the catalog can open (handed to <see cref="ModelCatalog"/>).</summary>
public static class StoreSources
{
    public static SourceTypes Types { get; } = new(Open, DefaultFolder);

    static IModelSource? Open(ModelSourceInfo info) => info.Type switch
    {
        ModelCatalog.OllamaStoreType => new OllamaStore(info.Name, info.FetchUri),
        ModelCatalog.HuggingFaceCacheType => new HuggingFaceCacheStore(info.Name, info.FetchUri),
        ModelCatalog.LMStudioType => new LMStudioStore(info.Name, info.FetchUri),
        ModelCatalog.DirectoryType => new DirectoryStore(info.Name, info.FetchUri),
        _ => null,
    };

    static string? DefaultFolder(string type) => type switch
    {
        ModelCatalog.OllamaStoreType => OllamaStore.DefaultRoot(),
        ModelCatalog.HuggingFaceCacheType => HuggingFaceCacheStore.DefaultRoot(),
        ModelCatalog.LMStudioType => LMStudioStore.DefaultRoot(),
        _ => null,
    };
}
