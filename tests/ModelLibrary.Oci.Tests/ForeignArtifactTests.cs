using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ModelLibrary.Sources.Oci;

namespace ModelLibrary.Oci.Tests;

/// <summary>
/// Artifacts the module did not write: pushed by skopeo from OCI layouts (ModelPack, Docker Model Runner) and by
/// plain HTTP (Ollama's Docker schema 2 manifest, an image index); and a registry that redirects blobs to storage
/// on another host, as S3- and Azure-backed registries do (distribution's storage middleware; ollama#7244 is the
/// 200-vs-redirect half of this).
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class ForeignArtifactTests
{
    readonly RegistryFixture registries;

    public ForeignArtifactTests(RegistryFixture registries) => this.registries = registries;

    static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(TestLibrary.Fixtures, name));

    [Theory]
    [InlineData("modelpack")]
    [InlineData("docker")]
    public async Task Artifacts_skopeo_pushes_from_an_oci_layout_are_pulled_with_their_config(string layout)
    {
        var registry = registries.Basic;
        var weights = Fixture("gguf/stories260K.gguf");
        var (config, manifest) = layout == "modelpack"
            ? (Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig), Artifacts.Manifest(OciMediaTypes.OciManifest, OciMediaTypes.ModelPackArtifact, OciMediaTypes.ModelPackConfig,
                Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig), (OciMediaTypes.ModelPackWeightRaw, weights, "stories260K.gguf")))
            : (Encoding.UTF8.GetBytes(Artifacts.DockerConfig), Artifacts.Manifest(OciMediaTypes.OciManifest, null, OciMediaTypes.DockerConfigV01,
                Encoding.UTF8.GetBytes(Artifacts.DockerConfig), (OciMediaTypes.DockerGguf, weights, null)));
        await using var fleet = TestLibrary.Create();
        var dir = Artifacts.Layout(Path.Combine(fleet.Root, "layout-" + layout), "v1", manifest, config, weights);
        var reference = $"{registry.Registry}/skopeo/{layout}:v1";

        RegistryFixture.Run("skopeo", "copy", "--dest-tls-verify=false", "--dest-creds", $"{RegistryFixture.User}:{RegistryFixture.Password}", $"oci:{dir}:v1", $"docker://{reference}");
        fleet.RegisterSource("fleet", registry.BaseUri, RegistryFixture.User, RegistryFixture.Password);
        var pulled = await fleet.PullAsync(reference);

        Assert.Equal(RawPush.Digest(weights), TestLibrary.Sha256(pulled.LocalPath!));
        Assert.Equal(layout == "modelpack" ? "stories260K.gguf" : "model.gguf", Path.GetFileName(pulled.LocalPath));
        Assert.Equal("llama", pulled.Metadata.Architecture);
        Assert.Equal("F32", pulled.Metadata.Quantization);
        Assert.Equal("gguf", pulled.Format);
        if (layout == "docker")
        {
            Assert.Equal(2048, pulled.Metadata.ContextLength);
        }
    }

    [Fact]
    public async Task An_Ollama_manifest_pushed_over_plain_HTTP_is_pulled_with_its_template_params_and_license()
    {
        var registry = registries.Anonymous;
        var weights = Fixture("gguf/ggml-vocab-phi-3.gguf");
        var template = Encoding.UTF8.GetBytes("{{ .System }} {{ .Prompt }}");
        var parameters = Encoding.UTF8.GetBytes("""{"stop":["<|end|>"]}""");
        var license = Encoding.UTF8.GetBytes("MIT License");
        using var http = RawPush.Client();
        // Ollama's layout (ollama/ollama server/images.go): schema 2, container config, one layer per kind, no annotations.
        var digest = await Artifacts.PushAsync(http, registry.BaseUri, "library/phi3", "mini", OciMediaTypes.DockerManifest, null, OciMediaTypes.OllamaConfig,
            Encoding.UTF8.GetBytes(Artifacts.OllamaConfig),
            (OciMediaTypes.OllamaModel, weights, null), (OciMediaTypes.OllamaTemplate, template, null), (OciMediaTypes.OllamaParams, parameters, null), (OciMediaTypes.OllamaLicense, license, null));
        await using var fleet = TestLibrary.Create();

        var pulled = await fleet.PullAsync($"{registry.Registry}/library/phi3:mini");

        Assert.Equal(RawPush.Digest(weights), TestLibrary.Sha256(pulled.LocalPath!));
        Assert.Equal(digest, pulled.Revision);
        var folder = Path.GetDirectoryName(pulled.LocalPath)!;
        Assert.Equal(template, File.ReadAllBytes(Path.Combine(folder, "template")));
        Assert.Equal(parameters, File.ReadAllBytes(Path.Combine(folder, "params.json")));
        Assert.Equal(license, File.ReadAllBytes(Path.Combine(folder, "LICENSE")));
        Assert.Equal("260K", pulled.Metadata.Parameters);
    }

    [Fact]
    public async Task An_image_index_leads_to_its_model_manifest_and_a_digest_reference_pins_it()
    {
        var registry = registries.Anonymous;
        var weights = Fixture("safetensors/mel_filters.safetensors");
        using var http = RawPush.Client();
        var manifestDigest = await Artifacts.PushAsync(http, registry.BaseUri, "indexed/model", "only-manifest", OciMediaTypes.OciManifest, OciMediaTypes.ModelPackArtifact,
            OciMediaTypes.ModelPackConfig, Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig.Replace("gguf", "safetensors")), (OciMediaTypes.ModelPackWeightRaw, weights, "mel.safetensors"));
        var manifestSize = Encoding.UTF8.GetByteCount(Artifacts.Manifest(OciMediaTypes.OciManifest, OciMediaTypes.ModelPackArtifact, OciMediaTypes.ModelPackConfig,
            Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig.Replace("gguf", "safetensors")), (OciMediaTypes.ModelPackWeightRaw, weights, "mel.safetensors")));
        var index = $$$"""{"schemaVersion":2,"mediaType":"{{{OciMediaTypes.OciIndex}}}","manifests":[{"mediaType":"{{{OciMediaTypes.OciManifest}}}","artifactType":"{{{OciMediaTypes.ModelPackArtifact}}}","digest":"{{{manifestDigest}}}","size":{{{manifestSize}}} }]}""";
        await RawPush.ManifestAsync(http, registry.BaseUri, "indexed/model", "v1", index, OciMediaTypes.OciIndex);
        await using var fleet = TestLibrary.Create();

        var byIndex = await fleet.PullAsync($"{registry.Registry}/indexed/model:v1");
        Assert.Equal(manifestDigest, byIndex.Revision);
        Assert.Equal(RawPush.Digest(weights), TestLibrary.Sha256(byIndex.LocalPath!));

        var byDigest = await fleet.Service.Registries.ResolveAsync(OciReference.Parse($"{registry.Registry}/indexed/model@{manifestDigest}"), CancellationToken.None);
        Assert.Equal($"{registry.Registry}/indexed/model@{manifestDigest}", byDigest.Model.Id);
        Assert.Equal(manifestDigest, byDigest.Model.Revision);
    }

    [Fact]
    public async Task Blobs_redirected_to_storage_on_another_host_arrive_without_the_registry_login_going_there()
    {
        var weights = Fixture("gguf/ggml-vocab-phi-3.gguf");
        await using var fake = await RedirectingRegistry.StartAsync(weights, manifestPadding: 0);
        await using var fleet = TestLibrary.Create();
        fleet.RegisterSource("redirecting", fake.BaseUri, "fleet", "pw");

        var pulled = await fleet.PullAsync($"{fake.Registry}/models/phi3:v1");

        Assert.Equal(RawPush.Digest(weights), TestLibrary.Sha256(pulled.LocalPath!));
        Assert.NotEmpty(fake.StorageRequests);
        Assert.All(fake.StorageRequests, r => Assert.Null(r));
        Assert.Contains(fake.RegistryAuthorizations, a => a == "Bearer registry-token");
    }

    [Fact]
    public async Task A_manifest_larger_than_4_MiB_is_refused_without_reading_it_all()
    {
        await using var fake = await RedirectingRegistry.StartAsync(Fixture("safetensors/model.safetensors"), manifestPadding: 5 * 1024 * 1024);
        await using var fleet = TestLibrary.Create();
        fleet.RegisterSource("redirecting", fake.BaseUri, "fleet", "pw");

        var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => fleet.PullAsync($"{fake.Registry}/models/phi3:v1"));

        Assert.Equal(ErrorIds.InvalidModelFile, e.ErrorId);
        Assert.Contains("larger than 4 MiB", e.Message);
    }

    /// <summary>
    /// A registry front that asks for a bearer token (its realm on the same fake), serves one ModelPack manifest,
    /// and answers blob requests with 307 to a storage server on 127.0.0.2 (a presigned URL), which records
    /// whatever Authorization reached it. Follows distribution's api.md for the routes and status codes.
    /// </summary>
    sealed class RedirectingRegistry : IAsyncDisposable
    {
        readonly WebApplication registry;
        readonly WebApplication storage;

        RedirectingRegistry(WebApplication registry, WebApplication storage)
        {
            this.registry = registry;
            this.storage = storage;
        }

        public Uri BaseUri { get; private set; } = null!;
        public string Registry => BaseUri.Authority;
        public ConcurrentQueue<string?> StorageRequests { get; } = new();
        public ConcurrentQueue<string?> RegistryAuthorizations { get; } = new();

        public static async Task<RedirectingRegistry> StartAsync(byte[] weights, int manifestPadding)
        {
            var config = Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig);
            var manifest = Artifacts.Manifest(OciMediaTypes.OciManifest, OciMediaTypes.ModelPackArtifact, OciMediaTypes.ModelPackConfig, config,
                (OciMediaTypes.ModelPackWeightRaw, weights, "model.gguf"));
            if (manifestPadding > 0)
            {
                manifest = manifest.TrimEnd('}') + ",\"annotations\":{\"padding\":\"" + new string('x', manifestPadding) + "\"}}";
            }

            var blobs = new Dictionary<string, byte[]> { [RawPush.Digest(weights)] = weights, [RawPush.Digest(config)] = config };
            var storage = Build(IPAddress.Parse("127.0.0.2"));
            var storageApp = storage;
            var registryApp = Build(IPAddress.Loopback);
            var fake = new RedirectingRegistry(registryApp, storageApp);
            storageApp.MapGet("/bucket/{digest}", (HttpContext c, string digest) =>
            {
                fake.StorageRequests.Enqueue(c.Request.Headers.Authorization.FirstOrDefault());
                return Results.Bytes(blobs[digest], "application/octet-stream", enableRangeProcessing: true);
            });
            storageApp.MapMethods("/bucket/{digest}", new[] { "HEAD" }, (HttpContext c, string digest) =>
            {
                fake.StorageRequests.Enqueue(c.Request.Headers.Authorization.FirstOrDefault());
                c.Response.Headers.AcceptRanges = "bytes";
                c.Response.ContentLength = blobs[digest].Length;
                return Results.Empty;
            });
            await storageApp.StartAsync();
            var storageBase = Address(storageApp);

            registryApp.Use(async (c, next) =>
            {
                if (c.Request.Path.StartsWithSegments("/token"))
                {
                    await next();
                    return;
                }

                var auth = c.Request.Headers.Authorization.FirstOrDefault();
                fake.RegistryAuthorizations.Enqueue(auth);
                if (auth != "Bearer registry-token")
                {
                    c.Response.StatusCode = 401;
                    c.Response.Headers.WWWAuthenticate = $"Bearer realm=\"{Address(registryApp)}token\",service=\"fake\",scope=\"repository:models/phi3:pull\"";
                    return;
                }

                await next();
            });
            registryApp.MapGet("/token", () => Results.Json(new { token = "registry-token", expires_in = 300 }));
            registryApp.MapGet("/v2/models/phi3/manifests/{reference}", (HttpContext c) =>
                Results.Bytes(Encoding.UTF8.GetBytes(manifest), OciMediaTypes.OciManifest));
            registryApp.MapMethods("/v2/models/phi3/blobs/{digest}", new[] { "GET", "HEAD" }, (string digest) =>
                Results.Redirect($"{storageBase}bucket/{digest}?X-Amz-Signature=presigned", permanent: false, preserveMethod: true));
            await registryApp.StartAsync();
            fake.BaseUri = new Uri(Address(registryApp));
            return fake;
        }

        static WebApplication Build(IPAddress address)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(o => o.Listen(address, 0));
            return builder.Build();
        }

        static string Address(WebApplication app)
        {
            var server = (IServer)app.Services.GetService(typeof(IServer))!;
            return server.Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/";
        }

        public async ValueTask DisposeAsync()
        {
            await registry.DisposeAsync();
            await storage.DisposeAsync();
        }
    }
}
