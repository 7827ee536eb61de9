using System.Text.Json;
using System.Text.RegularExpressions;
using ModelLibrary.Registry;

namespace ModelLibrary.Catalog;

/// <summary>
/// Parses the contract's catalog JSON (<c>{"models": [...]}</c> or a bare array) into <see cref="ModelInfo"/>s.
/// Unknown fields are kept; entries without id, provider or download_url are skipped with a warning.
/// </summary>
public static partial class CatalogJson
{
    static readonly HashSet<string> KnownFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "id", "name", "provider", "size", "description", "capabilities", "metadata", "download_url", "checksum", "filename", "format", "status", "mirrors",
    };

    public static CatalogReadResult Parse(string json, string sourceName)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw Errors.MalformedCatalog(sourceName, $"it is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            JsonElement entries;
            if (root.ValueKind == JsonValueKind.Array)
            {
                entries = root;
            }
            else if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("models", out var models) && models.ValueKind == JsonValueKind.Array)
            {
                entries = models;
            }
            else
            {
                throw Errors.MalformedCatalog(sourceName, "expected {\"models\": [...]} or a JSON array of models");
            }

            var list = new List<ModelInfo>();
            var warnings = new List<string>();
            var index = 0;
            foreach (var entry in entries.EnumerateArray())
            {
                index++;
                if (TryRead(entry, sourceName, index, warnings) is { } model)
                {
                    list.Add(model);
                }
            }

            return new CatalogReadResult(list, warnings);
        }
    }

    static ModelInfo? TryRead(JsonElement entry, string sourceName, int index, List<string> warnings)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            warnings.Add($"Source '{sourceName}': entry {index} is not an object; skipped.");
            return null;
        }

        var id = JsonValues.GetString(entry, "id");
        var provider = JsonValues.GetString(entry, "provider");
        var url = JsonValues.GetString(entry, "download_url");
        var missing = new[] { ("id", id), ("provider", provider), ("download_url", url) }.Where(f => string.IsNullOrWhiteSpace(f.Item2)).Select(f => f.Item1).ToArray();
        if (missing.Length > 0)
        {
            warnings.Add($"Source '{sourceName}': entry {index}{(string.IsNullOrWhiteSpace(id) ? "" : $" ('{ModelNames.Echo(id)}')")} has no {string.Join(", ", missing)}; skipped.");
            return null;
        }

        if (!ModelNames.IsValidId(id!))
        {
            warnings.Add($"Source '{sourceName}': entry {index} has the id '{ModelNames.Echo(id)}', which is not a valid model id ({ModelNames.NameRule}); skipped.");
            return null;
        }

        if (!ModelNames.IsValidProviderName(provider!))
        {
            warnings.Add($"Source '{sourceName}': entry {index} ('{id}') names the provider '{ModelNames.Echo(provider)}', which is not a valid provider name ({ModelNames.NameRule}); skipped.");
            return null;
        }

        var model = new ModelInfo
        {
            Id = id!,
            Name = JsonValues.GetString(entry, "name") ?? id!,
            Provider = provider!,
            Size = JsonValues.GetInt64(entry, "size") is > 0 and var size ? size : null,
            Description = JsonValues.GetString(entry, "description"),
            Capabilities = JsonValues.GetStrings(entry, "capabilities"),
            Metadata = entry.TryGetProperty("metadata", out var metadata) ? MetadataJson.Read(metadata) : new ModelMetadata(),
            DownloadUrl = url,
            Checksum = NormalizeChecksum(JsonValues.GetString(entry, "checksum"), sourceName, id!, warnings),
            FileName = JsonValues.GetString(entry, "filename"),
            Format = JsonValues.GetString(entry, "format")?.ToLowerInvariant(),
            Mirrors = JsonValues.GetStrings(entry, "mirrors") is { Length: > 0 } mirrors ? mirrors : null,
            Source = sourceName,
        };

        model.FileName ??= ModelFileNames.FromUrl(url!);
        model.Format ??= ModelFileNames.FormatOf(model.FileName);
        foreach (var property in entry.EnumerateObject().Where(p => !KnownFields.Contains(p.Name)))
        {
            model.AdditionalProperties[property.Name] = JsonValues.ToPlain(property.Value);
        }

        return model;
    }


    /// <summary>Accepts <c>sha256:&lt;hex&gt;</c> or bare hex; anything else is reported and treated as unknown.</summary>
    public static string? NormalizeChecksum(string? value, string sourceName, string id, List<string>? warnings)
    {
        var checksum = Sha256Checksum.Normalize(value);
        if (checksum is null && !string.IsNullOrWhiteSpace(value))
        {
            warnings?.Add($"Source '{sourceName}': model '{id}' has the checksum '{value}', which is not sha256:<64 hex digits>; it is treated as unknown.");
        }

        return checksum;
    }
}
