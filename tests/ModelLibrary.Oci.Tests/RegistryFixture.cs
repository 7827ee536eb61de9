global using Xunit;
using System.Collections;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using ModelLibrary.Catalog;
using ModelLibrary.Configuration;
using ModelLibrary.Downloads;
using ModelLibrary.Library;
using ModelLibrary.Sources.Oci;
using ModelLibrary.TestServer;
using ModelLibrary.Validation;

namespace ModelLibrary.Oci.Tests;

[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "registries";
}

/// <summary>
/// The suite's registries, started once: one with htpasswd basic auth, one with token auth through
/// <see cref="TokenServer"/> (realm on 127.0.0.2), one anonymous that fault tests stop and start again.
/// Docker's config is pointed at an empty folder so the machine's logins never take part.
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    public const string User = "fleet";
    public const string Password = "s3cret-pass";

    public RegistryProcess Basic { get; private set; } = null!;
    public RegistryProcess Token { get; private set; } = null!;
    public RegistryProcess Anonymous { get; private set; } = null!;
    public RegistryTokenServer TokenServer { get; private set; } = null!;
    public string DockerConfig { get; } = Path.Combine(Path.GetTempPath(), "ml-docker-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(DockerConfig);
        Environment.SetEnvironmentVariable(RegistryCredentials.DockerConfigVariable, DockerConfig);
        var htpasswd = Run("htpasswd", "-Bbn", User, Password).Trim();
        Basic = await RegistryProcess.StartAsync("  htpasswd:\n    realm: basic-realm\n    path: {root}/htpasswd".Replace("{root}", "ROOT"), root =>
            File.WriteAllText(Path.Combine(root, "htpasswd"), htpasswd + "\n"));
        TokenServer = await RegistryTokenServer.StartAsync(User, Password);
        Token = await RegistryProcess.StartAsync(
            $"  token:\n    realm: {TokenServer.Realm}\n    service: {RegistryTokenServer.Service}\n    issuer: {RegistryTokenServer.Issuer}\n    rootcertbundle: ROOT/token.pem",
            root => File.WriteAllText(Path.Combine(root, "token.pem"), TokenServer.CertificatePem));
        Anonymous = await RegistryProcess.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Basic.DisposeAsync();
        await Token.DisposeAsync();
        await Anonymous.DisposeAsync();
        await TokenServer.DisposeAsync();
        Directory.Delete(DockerConfig, true);
    }

    public static string Run(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in 120 s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {error.Result}");
        }

        return output.Result;
    }
}

/// <summary>One library in a temp folder, with the model files the tests publish and pull.</summary>
public sealed class TestLibrary : IAsyncDisposable
{
    public static readonly string Fixtures = FindFixtures();

    TestLibrary(string root, ModelLibraryService service)
    {
        Root = root;
        Service = service;
    }

    public string Root { get; }
    public ModelLibraryService Service { get; }

    public static TestLibrary Create(string? existingRoot = null)
    {
        var root = existingRoot ?? Path.Combine(Path.GetTempPath(), "ml-oci-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(root);
        var configuration = LibraryConfiguration.FromEnvironment(new Hashtable { [LibraryConfiguration.ModelsDirVariable] = root });
        return new TestLibrary(root, new ModelLibraryService(configuration, new HttpClient()));
    }

    /// <summary>Imports a fixture file as a Local model.</summary>
    public async Task<ModelInfo> ImportAsync(string fixture, string id)
    {
        var importer = new ModelImporter(Service);
        var plan = await importer.PlanAsync(new ImportRequest { Path = Path.Combine(Fixtures, fixture), Id = id }, CancellationToken.None);
        return await importer.ImportAsync(plan, CancellationToken.None);
    }

    public void RegisterSource(string name, Uri uri, string? user = null, string? password = null) =>
        Service.Catalog.Register(name, uri.ToString(), ModelCatalog.OciType, false, false, user is null ? null : new ModelLibrary.Registry.SourceCredential(user, password!));

    public async Task<PublishResult> PublishAsync(string id, string destination, OciModelFormat format = OciModelFormat.ModelPack, RegistryCredential? credential = null, long chunk = 0)
    {
        var publisher = new OciPublisher(Service) { ChunkSize = chunk > 0 ? chunk : OciPublisher.DefaultChunkSize };
        var plan = await publisher.PlanAsync(id, destination, format, CancellationToken.None);
        return await publisher.PushAsync(plan, credential, null, CancellationToken.None);
    }

    /// <summary>Plans and downloads a reference as Start-ModelDownload does, and returns the model as listed after.</summary>
    public async Task<ModelInfo> PullAsync(string reference, DownloadManager? manager = null)
    {
        var plan = await Service.PlanDownloadAsync(reference, force: false, CancellationToken.None);
        var downloads = manager ?? Service.Downloads;
        var task = await downloads.StartAsync(DownloadRequest.FromResolved(plan.Resolved!), plan.Model);
        await downloads.WaitAsync(task.TaskId);
        return await Service.GetAsync(plan.Model.Id, CancellationToken.None);
    }

    public DownloadManager FastManager() => new(Service.Configuration, Service.DownloadStore, Service.DownloadStore, new DownloadOptions
    {
        Validator = new DownloadValidator(() => Service.Configuration),
        Authorize = Service.Registries.AuthorizationForAsync,
        RetryBaseDelay = TimeSpan.FromMilliseconds(200),
        RetryMaxDelay = TimeSpan.FromSeconds(1),
        MaxRetryAttempts = 20,
        StallTimeout = TimeSpan.FromSeconds(3),
        PartSize = 1024 * 1024,
    });

    /// <summary>A valid safetensors file (huggingface/safetensors: u64 header length, JSON header, data) of about <paramref name="size"/> bytes.</summary>
    public static byte[] Safetensors(int size)
    {
        var header = Encoding.UTF8.GetBytes("{\"w\":{\"dtype\":\"U8\",\"shape\":[" + size + "],\"data_offsets\":[0," + size + "]}}");
        var padded = (header.Length + 7) / 8 * 8;
        var file = new byte[8 + padded + size];
        BitConverter.TryWriteBytes(file.AsSpan(0, 8), (ulong)padded);
        header.CopyTo(file, 8);
        for (var i = 8 + header.Length; i < 8 + padded; i++)
        {
            file[i] = (byte)' ';
        }

        Random.Shared.NextBytes(file.AsSpan(8 + padded));
        return file;
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return "sha256:" + Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    static string FindFixtures()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Leaves the library folder for another TestLibrary on the same root (a "new process" in a test).</summary>
    public bool KeepRoot { get; set; }

    public async ValueTask DisposeAsync()
    {
        if (Service.Downloads is { } d)
        {
            await d.DisposeAsync();
        }

        if (KeepRoot)
        {
            return;
        }

        try
        {
            Directory.Delete(Root, true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Plain HTTP pushes, written from the distribution spec without the module's client: an independent writer.</summary>
public static class RawPush
{
    public static string Digest(byte[] bytes) => "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public static HttpClient Client(string? user = null, string? password = null)
    {
        var http = new HttpClient();
        if (user is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        }

        return http;
    }

    /// <summary>A monolithic upload: POST, then PUT with the digest and the whole body.</summary>
    public static async Task BlobAsync(HttpClient http, Uri registry, string repository, byte[] bytes)
    {
        using var start = await http.PostAsync(new Uri(registry, $"v2/{repository}/blobs/uploads/"), null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location!.IsAbsoluteUri ? start.Headers.Location : new Uri(registry, start.Headers.Location);
        var put = new Uri(location + (location.Query.Length > 0 ? "&" : "?") + "digest=" + Uri.EscapeDataString(Digest(bytes)));
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var done = await http.PutAsync(put, content);
        Assert.Equal(System.Net.HttpStatusCode.Created, done.StatusCode);
    }

    public static async Task<string> ManifestAsync(HttpClient http, Uri registry, string repository, string tag, string json, string mediaType)
    {
        var content = new StringContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await http.PutAsync(new Uri(registry, $"v2/{repository}/manifests/{tag}"), content);
        Assert.True(response.IsSuccessStatusCode, $"PUT manifest: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return Digest(Encoding.UTF8.GetBytes(json));
    }
}

/// <summary>Model artifacts written by hand, as the three tools lay them out, for pushes that do not go through the module.</summary>
public static class Artifacts
{
    public const string ModelPackConfig = """{"descriptor":{"name":"hand-made"},"config":{"format":"gguf","architecture":"llama","paramSize":"260K","quantization":"F32"},"modelfs":{"type":"layers","diff_ids":[]}}""";
    public const string DockerConfig = """{"config":{"format":"gguf","quantization":"F32","parameters":"260K","architecture":"llama","context_size":2048},"descriptor":{},"rootfs":{"type":"rootfs","diff_ids":[]}}""";
    public const string OllamaConfig = """{"model_format":"gguf","model_family":"llama","model_families":["llama"],"model_type":"260K","file_type":"F32","architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""";

    /// <summary>An image manifest JSON naming a config and layers (media type, bytes, filepath annotation or none).</summary>
    public static string Manifest(string mediaType, string? artifactType, string configType, byte[] config, params (string MediaType, byte[] Bytes, string? Path)[] layers)
    {
        var root = new System.Text.Json.Nodes.JsonObject { ["schemaVersion"] = 2, ["mediaType"] = mediaType };
        if (artifactType is not null)
        {
            root["artifactType"] = artifactType;
        }

        root["config"] = new System.Text.Json.Nodes.JsonObject { ["mediaType"] = configType, ["digest"] = RawPush.Digest(config), ["size"] = config.Length };
        var array = new System.Text.Json.Nodes.JsonArray();
        foreach (var l in layers)
        {
            var layer = new System.Text.Json.Nodes.JsonObject { ["mediaType"] = l.MediaType, ["digest"] = RawPush.Digest(l.Bytes), ["size"] = l.Bytes.Length };
            if (l.Path is not null)
            {
                layer["annotations"] = new System.Text.Json.Nodes.JsonObject { ["org.cncf.model.filepath"] = l.Path };
            }

            array.Add(layer);
        }

        root["layers"] = array;
        return root.ToJsonString();
    }

    /// <summary>Pushes config, layers and manifest over plain HTTP; returns the manifest digest.</summary>
    public static async Task<string> PushAsync(HttpClient http, Uri registry, string repository, string tag, string mediaType, string? artifactType, string configType, byte[] config, params (string MediaType, byte[] Bytes, string? Path)[] layers)
    {
        await RawPush.BlobAsync(http, registry, repository, config);
        foreach (var layer in layers)
        {
            await RawPush.BlobAsync(http, registry, repository, layer.Bytes);
        }

        return await RawPush.ManifestAsync(http, registry, repository, tag, Manifest(mediaType, artifactType, configType, config, layers), mediaType);
    }

    /// <summary>An OCI image layout (image-spec image-layout.md) holding one manifest under a tag, for skopeo to push.</summary>
    public static string Layout(string folder, string tag, string manifest, params byte[][] blobs)
    {
        var dir = Path.Combine(folder, "blobs", "sha256");
        Directory.CreateDirectory(dir);
        var manifestBytes = System.Text.Encoding.UTF8.GetBytes(manifest);
        foreach (var blob in blobs.Append(manifestBytes))
        {
            File.WriteAllBytes(Path.Combine(dir, RawPush.Digest(blob)[7..]), blob);
        }

        File.WriteAllText(Path.Combine(folder, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
        var index = new System.Text.Json.Nodes.JsonObject
        {
            ["schemaVersion"] = 2,
            ["manifests"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject
            {
                ["mediaType"] = "application/vnd.oci.image.manifest.v1+json",
                ["digest"] = RawPush.Digest(manifestBytes),
                ["size"] = manifestBytes.Length,
                ["annotations"] = new System.Text.Json.Nodes.JsonObject { ["org.opencontainers.image.ref.name"] = tag },
            }),
        };
        File.WriteAllText(Path.Combine(folder, "index.json"), index.ToJsonString());
        return folder;
    }
}
