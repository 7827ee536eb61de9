using ModelLibrary.Catalog;

namespace ModelLibrary.Tests.Foundation;

public class CatalogTests
{
    [Fact]
    public void Built_in_catalog_maps_the_seed_without_inventing_facts()
    {
        var models = BuiltInCatalogSource.Read().Models;
        Assert.Equal(73, models.Count);
        Assert.Equal(68, models.Count(m => m.Format == "gguf"));
        Assert.Equal(5, models.Count(m => m.Format == "safetensors"));
        Assert.Equal(52, models.Count(m => m.Checksum is not null));
        Assert.Equal(51, models.Count(m => m.Size is not null));
        Assert.Equal(models.Count, models.Select(m => m.Id).Distinct().Count());
        Assert.All(models, m => Assert.True(ModelNames.IsValidId(m.Id)));
        var q4 = models.Single(m => m.Id == "tinyllama-1.1b-chat-q4");
        Assert.Equal("sha256:9fecc3b3cd76bba89d504f29b616eedf7da85b96540e490ca5824d3f7d2776a0", q4.Checksum);
        Assert.Equal(668788096, q4.Size);
        Assert.Equal("Q4_K_M", q4.Metadata.Quantization);
        Assert.Equal(2048, q4.Metadata.ContextLength);
        Assert.Equal("tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf", q4.FileName);
        var q2 = models.Single(m => m.Id == "tinyllama-1.1b-chat-q2");
        Assert.Null(q2.Checksum);
        Assert.Null(q2.Size);
    }

    [Fact]
    public void Parses_the_contract_format_and_keeps_unknown_fields()
    {
        var json = """
            {"models": [
              {"id": "a", "name": "A", "provider": "llama-cpp", "size": 10, "description": "d", "capabilities": ["chat"],
               "metadata": {"parameters": "1.1B", "quantization": "Q4_K_M", "context_length": 2048, "performance_metrics": {"inference_speed": "fast"}},
               "download_url": "https://e/x/a.Q4.gguf?download=1", "checksum": "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", "team": {"owner": "me"}}
            ]}
            """;
        var result = CatalogJson.Parse(json, "s");
        var a = Assert.Single(result.Models);
        Assert.Empty(result.Warnings);
        Assert.Equal("a.Q4.gguf", a.FileName);
        Assert.Equal("gguf", a.Format);
        Assert.Equal("sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", a.Checksum);
        Assert.Equal("fast", a.Metadata.PerformanceMetrics["inference_speed"]);
        Assert.Equal("me", ((IDictionary<string, object?>)a.AdditionalProperties["team"]!)["owner"]);
        Assert.Equal("s", a.Source);
    }

    [Fact]
    public void An_entry_s_mirrors_reach_the_download_request_and_a_URL_that_is_not_http_is_left_out()
    {
        var result = CatalogJson.Parse("""[{"id": "m", "provider": "llama-cpp", "download_url": "https://a.invalid/m.gguf", "mirrors": ["https://b.invalid/m.gguf", "ftp://c.invalid/m.gguf"]}]""", "s");
        var model = Assert.Single(result.Models);
        Assert.Equal(new[] { "https://b.invalid/m.gguf", "ftp://c.invalid/m.gguf" }, model.Mirrors);
        Assert.False(model.AdditionalProperties.ContainsKey("mirrors"));

        var request = ModelLibrary.Downloads.DownloadRequest.FromModel(model);
        Assert.Equal("b.invalid", Assert.Single(request.Mirrors!).Host);
    }

    [Fact]
    public void Accepts_a_bare_array()
    {
        var result = CatalogJson.Parse("""[{"id": "b", "provider": "transformers", "download_url": "https://e/model.safetensors"}]""", "s");
        Assert.Equal("safetensors", Assert.Single(result.Models).Format);
    }

    [Theory]
    [InlineData("""[{"provider": "p", "download_url": "https://e/x"}]""", "no id")]
    [InlineData("""[{"id": "x", "download_url": "https://e/x"}]""", "no provider")]
    [InlineData("""[{"id": "x", "provider": "p"}]""", "no download_url")]
    [InlineData("""[{"id": "../evil", "provider": "p", "download_url": "https://e/x"}]""", "not a valid model id")]
    [InlineData("""[42]""", "not an object")]
    public void Skips_bad_entries_with_a_warning(string json, string expected)
    {
        var result = CatalogJson.Parse(json, "src");
        Assert.Empty(result.Models);
        Assert.Contains(expected, Assert.Single(result.Warnings));
        Assert.Contains("'src'", result.Warnings[0]);
    }

    [Fact]
    public void A_bad_checksum_becomes_unknown_with_a_warning()
    {
        var result = CatalogJson.Parse("""[{"id": "x", "provider": "p", "download_url": "https://e/x", "checksum": "md5:abc"}]""", "s");
        Assert.Null(Assert.Single(result.Models).Checksum);
        Assert.Contains("treated as unknown", Assert.Single(result.Warnings));
    }

    [Theory]
    [InlineData("{\"models\": [")]
    [InlineData("{\"items\": []}")]
    [InlineData("\"just a string\"")]
    public void Malformed_catalogs_throw_naming_the_source(string json)
    {
        var e = Assert.Throws<ModelLibraryException>(() => CatalogJson.Parse(json, "broken"));
        Assert.Equal(ErrorIds.InvalidModelSource, e.ErrorId);
        Assert.Contains("'broken'", e.Message);
    }
}
