using ModelLibrary.Sources;
using ModelLibrary.Sources.Hub;

namespace ModelLibrary.Tests.Sources;

public class ModelReferenceTests
{
    [Theory]
    [InlineData("hf.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF", "Qwen", "Qwen2.5-0.5B-Instruct-GGUF", null, null, null, "hf.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF")]
    [InlineData("huggingface.co/Qwen/Repo-GGUF:q4_k_m", "Qwen", "Repo-GGUF", "Q4_K_M", null, null, "hf.co/Qwen/Repo-GGUF:Q4_K_M")]
    [InlineData("HF.CO/Qwen/Repo-GGUF:Q8_0@v1.0", "Qwen", "Repo-GGUF", "Q8_0", null, "v1.0", "hf.co/Qwen/Repo-GGUF:Q8_0")]
    [InlineData("hf.co/Qwen/Repo@abc1234:Q8_0", "Qwen", "Repo", "Q8_0", null, "abc1234", "hf.co/Qwen/Repo:Q8_0")]
    [InlineData("hf.co/o/r/sub/model.gguf", "o", "r", null, "sub/model.gguf", null, "hf.co/o/r/sub/model.gguf")]
    [InlineData("hf.co/o/r/model.gguf@main", "o", "r", null, "model.gguf", "main", "hf.co/o/r/model.gguf")]
    [InlineData("hf.co/o/r@dev/model.gguf", "o", "r", null, "model.gguf", "dev", "hf.co/o/r/model.gguf")]
    [InlineData("hf.co/o/r@refs/pr/1", "o", "r", null, null, "refs/pr/1", "hf.co/o/r")]
    [InlineData("hf.co/o/r@refs/pr/12:q4_k_m", "o", "r", "Q4_K_M", null, "refs/pr/12", "hf.co/o/r:Q4_K_M")]
    [InlineData("hf.co/o/r:Q4_K_M@refs/pr/1", "o", "r", "Q4_K_M", null, "refs/pr/1", "hf.co/o/r:Q4_K_M")]
    [InlineData("hf.co/o/r@refs/convert/parquet/sub/model.gguf", "o", "r", null, "sub/model.gguf", "refs/convert/parquet", "hf.co/o/r/sub/model.gguf")]
    [InlineData("hf.co/o/r/sub/model.gguf@refs/pr/3", "o", "r", null, "sub/model.gguf", "refs/pr/3", "hf.co/o/r/sub/model.gguf")]
    [InlineData("hf.co/o/r@feature%2Fx:Q8_0", "o", "r", "Q8_0", null, "feature/x", "hf.co/o/r:Q8_0")]
    public void Parses_hub_references(string text, string owner, string repo, string? quant, string? path, string? revision, string id)
    {
        var r = ModelReference.Parse(text);
        Assert.Equal(ModelReferenceKind.HuggingFace, r.Kind);
        Assert.Equal(owner, r.Owner);
        Assert.Equal(repo, r.Repository);
        Assert.Equal(quant, r.Quantization);
        Assert.Equal(path, r.FilePath);
        Assert.Equal(revision, r.Revision);
        Assert.Equal(id, r.Id);
    }

    [Theory]
    [InlineData("registry.example.com/ns/llama", "registry.example.com", "ns/llama", "latest", null, "registry.example.com/ns/llama:latest")]
    [InlineData("localhost:5000/models/tiny:q4", "localhost:5000", "models/tiny", "q4", null, "localhost:5000/models/tiny:q4")]
    [InlineData("localhost/tiny", "localhost", "tiny", "latest", null, "localhost/tiny:latest")]
    [InlineData("ghcr.io/o/m@sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "ghcr.io", "o/m", null,
        "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "ghcr.io/o/m@sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    public void Parses_oci_references(string text, string registry, string repository, string? tag, string? digest, string id)
    {
        var r = ModelReference.Parse(text);
        Assert.Equal(ModelReferenceKind.Oci, r.Kind);
        Assert.Equal(registry, r.Registry);
        Assert.Equal(repository, r.Repository);
        Assert.Equal(tag, r.Tag);
        Assert.Equal(digest, r.Digest);
        Assert.Equal(id, r.Id);
    }

    [Theory]
    [InlineData("tinyllama-1.1b-chat-q4")]
    [InlineData("my.model_v2")]
    [InlineData("owner/repo")]
    public void Catalog_ids_and_bare_names_are_not_references(string text) => Assert.False(ModelReference.LooksLikeReference(text));

    [Theory]
    [InlineData("hf.co/o/r/../../etc/passwd")]
    [InlineData("hf.co/o/r//etc/passwd")]
    [InlineData("hf.co/o/r/a/./b")]
    [InlineData("hf.co/o/r/a\\b")]
    [InlineData("hf.co/o/r/C:/x")]
    [InlineData("hf.co/o/r@refs/pr/1/../../x")]
    [InlineData("hf.co/o/r@main/")]
    public void A_file_part_leaving_the_repository_is_UnsafeModelContent(string text)
    {
        var e = Assert.ThrowsAny<ModelLibraryException>(() => ModelReference.Parse(text));
        Assert.Equal(ErrorIds.UnsafeModelContent, e.ErrorId);
    }

    [Theory]
    [InlineData("hf.co/only-owner")]
    [InlineData("hf.co/o/r:Q4/file.gguf")]
    [InlineData("hf.co/o/r@")]
    [InlineData("hf.co/o/bad--name")]
    [InlineData("hf.co/o/r@../x")]
    [InlineData("hf.co/o/r@refs/../../x")]
    [InlineData("hf.co/o/r@refs%2F..%2F..%2Fetc")]
    [InlineData("hf.co/o/r@%2Fetc%2Fpasswd")]
    [InlineData("hf.co/o/r@refs//x")]
    [InlineData("hf.co/o/r@a\\b")]
    [InlineData("registry.example.com/UPPER/case")]
    public void Malformed_references_are_InvalidModelId(string text)
    {
        var e = Assert.ThrowsAny<ModelLibraryException>(() => ModelReference.Parse(text));
        Assert.Equal(ErrorIds.InvalidModelId, e.ErrorId);
    }

    [Fact]
    public void A_revision_with_slashes_is_one_escaped_segment_in_api_and_resolve_urls_as_huggingface_hub_quotes_it()
    {
        // hf_api.py model_info / list_repo_tree and file_download.py hf_hub_url: quote(revision, safe=""), quote(filename).
        var settings = new HubSettings(new Uri("https://hub.example/"), null, false, "huggingface", false);
        Assert.Equal("https://hub.example/o/r/resolve/refs%2Fpr%2F1/sub/a%20b.gguf", settings.ResolveUrl("o/r", "refs/pr/1", "sub/a b.gguf").AbsoluteUri);
        Assert.Equal("/o/r/resolve/refs%2Fpr%2F1/m.gguf", settings.ResolveUrl("o/r", "refs/pr/1", "m.gguf").PathAndQuery);
        Assert.Equal("refs%2Fconvert%2Fparquet", HubSettings.RevisionSegment("refs/convert/parquet"));
        // A reference written back keeps a Hub ref readable and escapes any other slash, so it parses to the same revision.
        var r = ModelReference.Parse("hf.co/o/r@feature%2Fx");
        Assert.Equal("feature/x", ModelReference.Parse(r.WithQuantization("Q8_0").Text).Revision);
        Assert.Equal("hf.co/o/r:Q4_K_M@refs/pr/1", ModelReference.Parse("hf.co/o/r@refs/pr/1").WithQuantization("q4_k_m").Text);
    }

    [Fact]
    public void Hub_settings_never_print_their_token()
    {
        var settings = new HubSettings(new Uri("https://hub.example/"), "hf_secret_value", false, "huggingface", false);
        Assert.DoesNotContain("hf_secret_value", settings.ToString());
        Assert.DoesNotContain("hf_secret_value", $"{settings}");
        Assert.DoesNotContain("hf_secret_value", new ModelLibrary.Registry.SourceCredential("token", "hf_secret_value").ToString());
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://example.org/x.gguf")]
    public void Urls_other_than_http_are_InsecureSource(string text)
    {
        var e = Assert.ThrowsAny<ModelLibraryException>(() => ModelReference.ParseUrl(text));
        Assert.Equal(ErrorIds.InsecureSource, e.ErrorId);
    }

    static HubTreeEntry E(string path, long size = 100) => new(path, size, new string('a', 40), new string('b', 64));

    [Fact]
    public void Gguf_quantizations_split_sets_and_projectors_group_as_llama_server_and_ollama_choose()
    {
        var tree = new[]
        {
            E("m-Q4_K_M-00001-of-00002.gguf"), E("m-Q4_K_M-00002-of-00002.gguf"), E("m.Q8_0.gguf"), E("m-IQ3_XS.gguf"), E("mmproj-m-f16.gguf"), E("README.md"),
        };
        var models = HubFileSelection.GgufModels(tree);
        Assert.Equal(new[] { "Q4_K_M", "Q8_0", "IQ3_XS" }, models.Select(m => m.Quantization));
        Assert.Equal(new[] { "m-Q4_K_M-00001-of-00002.gguf", "m-Q4_K_M-00002-of-00002.gguf", "mmproj-m-f16.gguf" }, models[0].Files.Select(f => f.Path));
        Assert.Equal("Q4_K_M", HubFileSelection.PickGguf(models, null, out _)!.Quantization);
        Assert.Equal("Q8_0", HubFileSelection.PickGguf(models, "q8_0", out _)!.Quantization);
        Assert.Null(HubFileSelection.PickGguf(models, "Q2_K", out _));
        Assert.Null(HubFileSelection.PickGguf(models.Skip(1).ToList(), null, out var ambiguous));
        Assert.True(ambiguous);
    }

    [Fact]
    public void Transformers_files_are_what_from_pretrained_reads()
    {
        var tree = new[]
        {
            E("config.json"), E("generation_config.json"), E("model-00001-of-00002.safetensors"), E("model-00002-of-00002.safetensors"),
            E("model.safetensors.index.json"), E("pytorch_model.bin"), E("pytorch_model.bin.index.json"), E("tokenizer.json"), E("tokenizer.model"),
            E("merges.txt"), E("onnx/model.onnx"), E("gguf/model.gguf"), E("README.md"), E("LICENSE"), E("figure.png"), E(".gitattributes"), E("modeling_x.py"),
        };
        var choice = HubFileSelection.Transformers(tree)!;
        Assert.Equal(
            new[] { "config.json", "generation_config.json", "merges.txt", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json", "tokenizer.json", "tokenizer.model" },
            choice.Files.Select(f => f.Path));
        Assert.Equal("safetensors", choice.Format);
        Assert.Null(HubFileSelection.Transformers(new[] { E("config.json"), E("README.md") }));
        Assert.Equal(new[] { "config.json", "pytorch_model.bin" }, HubFileSelection.Transformers(new[] { E("config.json"), E("pytorch_model.bin") })!.Files.Select(f => f.Path));
    }
}
