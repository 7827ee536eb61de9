using System.Reflection;
using ModelLibrary.Formats;
using ModelLibrary.Library;
using ModelLibrary.Tests.Formats;

namespace ModelLibrary.Tests.Validation;

/// <summary>A header value is kept once: in <see cref="ModelFileMetadata.Metadata"/>, which the properties named after it read.</summary>
public class MetadataFieldsTests
{
    static readonly HashSet<string> MetadataNames = typeof(ModelMetadata).GetProperties().Select(p => p.Name).Append("FormatVersion").ToHashSet();

    [Fact]
    public void ModelFileMetadata_stores_no_header_value_beside_Metadata()
    {
        var duplicates = typeof(ModelFileMetadata).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => MetadataNames.Contains(p.Name) && p.CanWrite).Select(p => p.Name).ToList();
        Assert.Empty(duplicates);
        // Format and Name are the file's own (not in the seed's metadata); Metadata is the one store.
        Assert.True(typeof(ModelFileMetadata).GetProperty(nameof(ModelFileMetadata.Metadata))!.CanWrite);
    }

    [Fact]
    public void The_shown_values_are_the_metadata_values_from_a_file_a_catalog_and_a_merge()
    {
        var header = ModelFileInspector.Inspect(Fixtures.File("gguf", "stories260K.gguf"));
        var file = ModelMetadataReader.FromHeader(header);
        AssertShownFromMetadata(file);
        Assert.Equal("llama", file.Architecture);
        Assert.Equal("GGUF v3", file.FormatVersion);

        var model = new ModelInfo
        {
            Id = "m", Name = "M", Provider = "llama-cpp", Format = "gguf",
            Metadata = new ModelMetadata { Architecture = "llama", ContextLength = 4096, EmbeddingLength = 7, License = "MIT", Quantization = "Q4_K_M" },
        };
        AssertShownFromMetadata(ModelMetadataReader.FromCatalog(model));

        var merged = ModelMetadataReader.Merge(model, file);
        AssertShownFromMetadata(merged);
        Assert.Equal(file.ContextLength, merged.ContextLength);     // the file's value wins
        Assert.Equal("MIT", merged.Metadata.License);                 // what only the catalog knows stays
        Assert.Equal(file.EmbeddingLength ?? 7, merged.EmbeddingLength);
    }

    [Fact]
    public void Filling_gaps_and_overlaying_header_values_cover_the_same_fields()
    {
        // Every header value set on one side reaches the other, both ways.
        var header = ModelFileInspector.ToMetadata(ModelFileInspector.Inspect(Fixtures.File("gguf", "stories260K.gguf")));
        var filled = new ModelMetadata();
        filled.FillGapsFrom(header);
        var overlaid = new ModelMetadata { Architecture = "other", ContextLength = 1 };
        overlaid.OverlayHeaderValues(header);
        foreach (var property in typeof(ModelMetadata).GetProperties().Where(p => p.PropertyType != typeof(string[]) && p.PropertyType != typeof(IDictionary<string, object?>)))
        {
            Assert.Equal(property.GetValue(header), property.GetValue(filled));
            if (property.GetValue(header) is not null)
            {
                Assert.Equal(property.GetValue(header), property.GetValue(overlaid));
            }
        }
    }

    static void AssertShownFromMetadata(ModelFileMetadata shown)
    {
        foreach (var property in typeof(ModelFileMetadata).GetProperties().Where(p => MetadataNames.Contains(p.Name) && p.Name != nameof(ModelFileMetadata.Metadata)))
        {
            var source = typeof(ModelMetadata).GetProperty(property.Name == "FormatVersion" ? "FileFormatVersion" : property.Name)!;
            Assert.Equal(source.GetValue(shown.Metadata), property.GetValue(shown));
        }
    }
}
