using System.Text.Json;
using ModelLibrary.Sources.Oci;

namespace ModelLibrary.Oci.Tests;

/// <summary>
/// Publish-LibraryModel and pulls against Distribution 2.8 with htpasswd basic auth; skopeo (containers/image) reads
/// what the module publishes. The registry's API: distribution/distribution docs/spec/api.md.
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class PublishAndPullTests
{
    readonly RegistryFixture registries;

    public PublishAndPullTests(RegistryFixture registries) => this.registries = registries;

    string Basic => registries.Basic.Registry;

    [Fact]
    public async Task A_published_ModelPack_is_read_by_skopeo_and_pulled_by_another_library_byte_for_byte()
    {
        await using var publisher = TestLibrary.Create();
        var local = await publisher.ImportAsync("gguf/stories260K.gguf", "stories");
        publisher.RegisterSource("fleet", registries.Basic.BaseUri, RegistryFixture.User, RegistryFixture.Password);

        var result = await publisher.PublishAsync("stories", $"{Basic}/models/stories:v1");

        Assert.Equal($"{Basic}/models/stories:v1", result.Reference);
        Assert.Equal(OciModelFormat.ModelPack, result.Format);
        Assert.Equal(2, result.BlobsUploaded);
        Assert.Equal(0, result.BlobsSkipped);

        // skopeo, an independent client, sees a ModelPack artifact with the file's digest and path.
        var raw = RegistryFixture.Run("skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", $"{RegistryFixture.User}:{RegistryFixture.Password}", $"docker://{result.Reference}");
        using var manifest = JsonDocument.Parse(raw);
        Assert.Equal(OciMediaTypes.ModelPackArtifact, manifest.RootElement.GetProperty("artifactType").GetString());
        Assert.Equal(OciMediaTypes.ModelPackConfig, manifest.RootElement.GetProperty("config").GetProperty("mediaType").GetString());
        var layer = manifest.RootElement.GetProperty("layers")[0];
        Assert.Equal(OciMediaTypes.ModelPackWeightRaw, layer.GetProperty("mediaType").GetString());
        Assert.Equal(local.Checksum, layer.GetProperty("digest").GetString());
        Assert.Equal("stories260K.gguf", layer.GetProperty("annotations").GetProperty(OciMediaTypes.FilePathAnnotation).GetString());
        Assert.Equal(result.Digest, RawPush.Digest(System.Text.Encoding.UTF8.GetBytes(raw)));

        // skopeo copies it into an OCI layout: the blob there is the model file.
        var layout = Path.Combine(publisher.Root, "skopeo-copy");
        RegistryFixture.Run("skopeo", "copy", "--src-tls-verify=false", "--src-creds", $"{RegistryFixture.User}:{RegistryFixture.Password}", $"docker://{result.Reference}", $"oci:{layout}:v1");
        var copied = Path.Combine(layout, "blobs", "sha256", local.Checksum![7..]);
        Assert.Equal(local.Checksum, TestLibrary.Sha256(copied));

        // Another machine's library, logged in through Docker's config.json, pulls the same bytes.
        await using var fleet = TestLibrary.Create();
        WriteDockerConfig(registries.DockerConfig, Basic, RegistryFixture.User, RegistryFixture.Password);
        try
        {
            var pulled = await fleet.PullAsync(result.Reference);
            Assert.Equal(ModelStatus.Local, pulled.Status);
            Assert.Equal(local.Checksum, TestLibrary.Sha256(pulled.LocalPath!));
            Assert.Equal("stories260K.gguf", Path.GetFileName(pulled.LocalPath));
            Assert.Equal(result.Digest, pulled.Revision);
        }
        finally
        {
            File.Delete(Path.Combine(registries.DockerConfig, "config.json"));
        }
    }

    [Fact]
    public async Task Publishing_the_same_model_again_sends_no_blob_and_a_new_repository_mounts_nothing_it_cannot()
    {
        await using var library = TestLibrary.Create();
        await library.ImportAsync("gguf/ggml-vocab-phi-3.gguf", "phi3-vocab");
        var credential = new RegistryCredential(RegistryFixture.User, RegistryFixture.Password, "test");

        var first = await library.PublishAsync("phi3-vocab", $"{Basic}/models/phi3:a", credential: credential);
        var again = await library.PublishAsync("phi3-vocab", $"{Basic}/models/phi3:b", credential: credential);

        Assert.Equal(2, first.BlobsUploaded);
        Assert.Equal(0, again.BlobsUploaded);
        Assert.Equal(2, again.BlobsSkipped);
        Assert.Equal(first.Size, again.Size);
    }

    [Theory]
    [InlineData(OciModelFormat.Docker, "gguf/ggml-vocab-gpt-2.gguf", OciMediaTypes.DockerGguf, OciMediaTypes.DockerConfigV01)]
    [InlineData(OciModelFormat.Ollama, "gguf/ggml-vocab-gpt-2.gguf", OciMediaTypes.OllamaModel, OciMediaTypes.OllamaConfig)]
    [InlineData(OciModelFormat.Docker, "safetensors/voices.safetensors", OciMediaTypes.DockerSafetensors, OciMediaTypes.DockerConfigV01)]
    [InlineData(OciModelFormat.ModelPack, "safetensors/voices.safetensors", OciMediaTypes.ModelPackWeightRaw, OciMediaTypes.ModelPackConfig)]
    public async Task Each_format_is_published_as_its_tool_lays_it_out_and_pulled_back(OciModelFormat format, string fixture, string layerType, string configType)
    {
        await using var publisher = TestLibrary.Create();
        var local = await publisher.ImportAsync(fixture, "m-" + format.ToString().ToLowerInvariant());
        var credential = new RegistryCredential(RegistryFixture.User, RegistryFixture.Password, "test");
        var reference = $"{Basic}/formats/{format.ToString().ToLowerInvariant()}-{Path.GetExtension(fixture).TrimStart('.')}:latest";

        var result = await publisher.PublishAsync(local.Id, reference, format, credential);

        var raw = RegistryFixture.Run("skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", $"{RegistryFixture.User}:{RegistryFixture.Password}", $"docker://{reference}");
        using var manifest = JsonDocument.Parse(raw);
        Assert.Equal(layerType, manifest.RootElement.GetProperty("layers")[0].GetProperty("mediaType").GetString());
        Assert.Equal(configType, manifest.RootElement.GetProperty("config").GetProperty("mediaType").GetString());
        Assert.Equal(format == OciModelFormat.Ollama ? OciMediaTypes.DockerManifest : OciMediaTypes.OciManifest, manifest.RootElement.GetProperty("mediaType").GetString());

        await using var fleet = TestLibrary.Create();
        fleet.RegisterSource("fleet", registries.Basic.BaseUri, RegistryFixture.User, RegistryFixture.Password);
        var pulled = await fleet.PullAsync(reference);
        Assert.Equal(local.Checksum, TestLibrary.Sha256(pulled.LocalPath!));
        Assert.Equal(result.Digest, pulled.Revision);
        Assert.Equal(local.Format, pulled.Format);
    }

    public static void WriteDockerConfig(string folder, string registry, string user, string password, string? helper = null)
    {
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}"));
        var json = helper is null
            ? $$$"""{"auths": {"{{{registry}}}": {"auth": "{{{auth}}}"} } }"""
            : $$$"""{"auths": {}, "credHelpers": {"{{{registry}}}": "{{{helper}}}"} }""";
        File.WriteAllText(Path.Combine(folder, "config.json"), json);
    }
}
