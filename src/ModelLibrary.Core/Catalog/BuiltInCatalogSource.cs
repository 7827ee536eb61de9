using System.Text.Json;
using ModelLibrary.Registry;

namespace ModelLibrary.Catalog;

/// <summary>
/// The catalog shipped inside the module, built from the product design seed catalog (<c>Catalog/catalog-seed.json</c>): real models, with null
/// wherever a fact is unknown. Its fields are mapped to the contract's (<c>url</c> → DownloadUrl,
/// <c>sha256</c> → Checksum <c>sha256:&lt;hex&gt;</c>); md5 and provenance are kept as additional properties.
/// </summary>
public sealed class BuiltInCatalogSource : IModelSource
{
    public const string SourceName = "builtin";
    const string ResourceName = "ModelLibrary.Catalog.catalog-seed.json";

    static readonly Lazy<CatalogReadResult> Catalog = new(Load);

    public string Name => SourceName;

    public Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken) => Task.FromResult(Catalog.Value);

    /// <summary>The parsed catalog; parsed once per process, on first use (never at import).</summary>
    public static CatalogReadResult Read() => Catalog.Value;

    static CatalogReadResult Load()
    {
        using var stream = typeof(BuiltInCatalogSource).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The built-in catalog resource '{ResourceName}' is missing from the assembly.");
        using var document = JsonDocument.Parse(stream);
        var models = new List<ModelInfo>();
        foreach (var entry in document.RootElement.EnumerateArray())
        {
            var id = JsonValues.GetString(entry, "id")!;
            var filename = JsonValues.GetString(entry, "filename");
            var url = JsonValues.GetString(entry, "url")!;
            var model = new ModelInfo
            {
                Id = id,
                Name = JsonValues.GetString(entry, "name") ?? id,
                Provider = JsonValues.GetString(entry, "provider")!,
                Format = JsonValues.GetString(entry, "format"),
                DownloadUrl = url,
                FileName = filename ?? ModelFileNames.FromUrl(url),
                Size = JsonValues.GetInt64(entry, "size"),
                Checksum = CatalogJson.NormalizeChecksum(JsonValues.GetString(entry, "sha256"), SourceName, id, null),
                Description = JsonValues.GetString(entry, "description"),
                Capabilities = JsonValues.GetStrings(entry, "capabilities"),
                Source = SourceName,
                Metadata = new ModelMetadata
                {
                    Parameters = JsonValues.GetString(entry, "parameters"),
                    Quantization = JsonValues.GetString(entry, "quantization"),
                    ContextLength = JsonValues.GetInt64(entry, "context_length"),
                    License = JsonValues.GetString(entry, "license"),
                    Architecture = JsonValues.GetString(entry, "architecture"),
                    Tags = JsonValues.GetStrings(entry, "tags"),
                },
            };
            if (JsonValues.GetString(entry, "md5") is { } md5)
            {
                model.AdditionalProperties["md5"] = md5;
            }

            if (JsonValues.GetString(entry, "facts_from") is { } facts)
            {
                model.AdditionalProperties["facts_from"] = facts;
            }

            models.Add(model);
        }

        return new CatalogReadResult(models, Array.Empty<string>());
    }
}
