using System.Text;
using ModelLibrary.Sources.Oci;

namespace ModelLibrary.Oci.Tests;

/// <summary>
/// What goes wrong between a registry and a fleet: damaged blobs, hostile or unknown manifests, tags that move,
/// and a registry stopped in the middle of a pull or a push (distribution's filesystem driver keeps upload
/// sessions across a restart when http.secret is shared).
/// </summary>
[Collection(RegistryCollection.Name)]
public sealed class FaultTests
{
    readonly RegistryFixture registries;

    public FaultTests(RegistryFixture registries) => this.registries = registries;

    RegistryProcess Registry => registries.Anonymous;

    static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(TestLibrary.Fixtures, name));

    [Fact]
    public async Task A_blob_whose_bytes_do_not_match_its_digest_is_ChecksumMismatch_and_nothing_lands()
    {
        await using var publisher = TestLibrary.Create();
        var local = await publisher.ImportAsync("gguf/ggml-vocab-gpt-neox.gguf", "neox-vocab");
        await publisher.PublishAsync("neox-vocab", $"{Registry.Registry}/faults/damaged:v1");
        // Damage the stored blob in place: same length, different bytes, as a failing disk would.
        var stored = Registry.BlobPath(local.Checksum!);
        var bytes = File.ReadAllBytes(stored);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(stored, bytes);
        try
        {
            await using var fleet = TestLibrary.Create();
            var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => fleet.PullAsync($"{Registry.Registry}/faults/damaged:v1"));

            Assert.Equal(ErrorIds.ChecksumMismatch, e.ErrorId);
            Assert.Contains(local.Checksum!, e.Message);
            Assert.Empty(Directory.EnumerateFiles(fleet.Root, "*.gguf", SearchOption.AllDirectories));
            Assert.Empty(Directory.EnumerateFiles(fleet.Root, "*.partial", SearchOption.AllDirectories));
        }
        finally
        {
            bytes[bytes.Length / 2] ^= 0xFF;
            File.WriteAllBytes(stored, bytes);
        }
    }

    [Theory]
    [InlineData("../../escaped.gguf")]
    [InlineData("/etc/escaped.gguf")]
    [InlineData("sub/../../escaped.gguf")]
    public async Task A_layer_path_leaving_the_model_folder_is_refused_before_any_byte_is_written(string path)
    {
        using var http = RawPush.Client();
        var weights = Fixture("gguf/ggml-vocab-phi-3.gguf");
        await Artifacts.PushAsync(http, Registry.BaseUri, "faults/escape", "v1", OciMediaTypes.OciManifest, OciMediaTypes.ModelPackArtifact,
            OciMediaTypes.ModelPackConfig, Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig), (OciMediaTypes.ModelPackWeightRaw, weights, path));
        await using var fleet = TestLibrary.Create();

        var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => fleet.PullAsync($"{Registry.Registry}/faults/escape:v1"));

        Assert.Equal(ErrorIds.UnsafeModelContent, e.ErrorId);
        Assert.Contains(path, e.Message);
        Assert.Empty(Directory.EnumerateFiles(fleet.Root, "*.gguf", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.GetFullPath(Path.Combine(fleet.Root, "..", "escaped.gguf"))));
    }

    [Fact]
    public async Task An_unknown_layer_media_type_is_refused_naming_it()
    {
        using var http = RawPush.Client();
        var weights = Fixture("gguf/ggml-vocab-phi-3.gguf");
        await Artifacts.PushAsync(http, Registry.BaseUri, "faults/unknown", "v1", OciMediaTypes.OciManifest, OciMediaTypes.ModelPackArtifact,
            OciMediaTypes.ModelPackConfig, Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig), ("application/vnd.example.weights+zstd", weights, "model.gguf"));
        await using var fleet = TestLibrary.Create();

        var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => fleet.PullAsync($"{Registry.Registry}/faults/unknown:v1"));

        Assert.Equal(ErrorIds.InvalidModelFile, e.ErrorId);
        Assert.Contains("application/vnd.example.weights+zstd", e.Message);
    }

    [Fact]
    public async Task A_container_image_is_not_taken_for_a_model()
    {
        using var http = RawPush.Client();
        var layer = Encoding.UTF8.GetBytes("not a model");
        await Artifacts.PushAsync(http, Registry.BaseUri, "faults/image", "v1", OciMediaTypes.OciManifest, null,
            "application/vnd.oci.image.config.v1+json", Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"""),
            ("application/vnd.oci.image.layer.v1.tar+gzip", layer, null));
        await using var fleet = TestLibrary.Create();

        var e = await Assert.ThrowsAnyAsync<ModelLibraryException>(() => fleet.PullAsync($"{Registry.Registry}/faults/image:v1"));

        Assert.Equal(ErrorIds.InvalidModelFile, e.ErrorId);
        Assert.Contains("neither a CNCF ModelPack", e.Message);
    }

    [Fact]
    public async Task A_tag_that_moves_between_listing_and_download_gives_the_new_model_whole_and_says_which()
    {
        await using var publisher = TestLibrary.Create();
        var first = await publisher.ImportAsync("gguf/ggml-vocab-falcon.gguf", "falcon-vocab");
        var second = await publisher.ImportAsync("gguf/ggml-vocab-gpt-2.gguf", "gpt2-vocab");
        var reference = $"{Registry.Registry}/faults/moving:stable";
        var before = await publisher.PublishAsync("falcon-vocab", reference);

        await using var fleet = TestLibrary.Create();
        fleet.RegisterSource("mirror", Registry.BaseUri);
        var listed = await fleet.Service.Catalog.Open(fleet.Service.Catalog.ListSources().Single(s => s.Name == "mirror")).ReadAsync(CancellationToken.None);
        Assert.Contains(listed.Models, m => m.Id == reference && m.Status == ModelStatus.Available);

        var after = await publisher.PublishAsync("gpt2-vocab", reference);
        var pulled = await fleet.PullAsync(reference);

        Assert.NotEqual(before.Digest, after.Digest);
        Assert.Equal(after.Digest, pulled.Revision);
        Assert.Equal(second.Checksum, TestLibrary.Sha256(pulled.LocalPath!));
        Assert.NotEqual(first.Checksum, second.Checksum);
    }

    [Fact]
    public async Task Listing_follows_pagination_of_catalog_and_tags()
    {
        using var http = RawPush.Client();
        var weights = Fixture("safetensors/model.safetensors");
        foreach (var (repository, tag) in new[] { ("paged/model", "a"), ("paged/model", "b"), ("paged/model", "c"), ("paged/other", "x"), ("paged/third", "y") })
        {
            await Artifacts.PushAsync(http, Registry.BaseUri, repository, tag, OciMediaTypes.OciManifest, null,
                OciMediaTypes.DockerConfigV01, Encoding.UTF8.GetBytes(Artifacts.DockerConfig), (OciMediaTypes.DockerSafetensors, weights, null));
        }

        var client = new OciRegistryClient(Registry.BaseUri, Registry.Registry, RegistryLogin.None) { PageSize = 2 };
        var tags = await client.ListTagsAsync("paged/model", 100, CancellationToken.None);
        var repositories = await client.ListRepositoriesAsync(100, CancellationToken.None);

        Assert.Equal(new[] { "a", "b", "c" }, tags.Order());
        Assert.Contains("paged/model", repositories!);
        Assert.Contains("paged/other", repositories!);
        Assert.Contains("paged/third", repositories!);
    }

    [Fact]
    public async Task A_registry_stopped_in_the_middle_of_a_pull_is_resumed_when_it_is_back()
    {
        var weights = TestLibrary.Safetensors(6 * 1024 * 1024);
        var size = weights.Length;
        using var http = RawPush.Client();
        await Artifacts.PushAsync(http, Registry.BaseUri, "faults/stopped-pull", "v1", OciMediaTypes.OciManifest, OciMediaTypes.ModelPackArtifact,
            OciMediaTypes.ModelPackConfig, Encoding.UTF8.GetBytes(Artifacts.ModelPackConfig.Replace("gguf", "safetensors")), (OciMediaTypes.ModelPackWeightRaw, weights, "weights.safetensors"));
        await using var proxy = new SlowProxy(Registry.Port, 2 * 1024 * 1024);
        await using var fleet = TestLibrary.Create();
        await using var manager = fleet.FastManager();

        var pull = fleet.PullAsync($"{proxy.Registry}/faults/stopped-pull:v1", manager);
        await WaitUntil(() => proxy.Relayed > size / 4, TimeSpan.FromSeconds(30));
        Registry.Stop();
        var relayedWhenStopped = proxy.Relayed;
        await Task.Delay(1500);
        await Registry.StartAgainAsync();
        var pulled = await pull.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.True(relayedWhenStopped < size, "the registry was stopped before the blob was through");
        Assert.Equal(RawPush.Digest(weights), TestLibrary.Sha256(pulled.LocalPath!));
        // Resumed, not started over: the relay carried well under twice the blob.
        Assert.True(proxy.Relayed < size * 1.6, $"relayed {proxy.Relayed} bytes for a {size}-byte blob");
    }

    [Fact]
    public async Task A_registry_stopped_in_the_middle_of_a_push_is_resumed_where_the_upload_stopped()
    {
        var size = 6 * 1024 * 1024;
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        var digest = RawPush.Digest(bytes);
        await using var proxy = new SlowProxy(Registry.Port, 2 * 1024 * 1024);
        var client = RetryingClient(proxy);
        var stoppedAt = -1L;
        var afterRestart = new System.Collections.Concurrent.ConcurrentQueue<long>();
        // Distribution cancels a session whose stored bytes passed the last acknowledged offset (a death inside a
        // chunk; that blob then starts over, tested below), so the registry is stopped right after a chunk is
        // acknowledged: the case a chunked upload can resume on any registry.
        var progress = new Progress(n =>
        {
            if (Interlocked.Read(ref stoppedAt) >= 0)
            {
                afterRestart.Enqueue(n);
            }
            else if (n >= size / 3)
            {
                Registry.Stop();
                Interlocked.Exchange(ref stoppedAt, n);
            }
        });

        var push = client.UploadBlobAsync("faults/stopped-push", digest, size, () => new MemoryStream(bytes), 512 * 1024, progress, CancellationToken.None);
        await WaitUntil(() => Interlocked.Read(ref stoppedAt) >= 0, TimeSpan.FromSeconds(30));
        await Task.Delay(1500);
        await Registry.StartAgainAsync();
        await push.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.True(await client.BlobExistsAsync("faults/stopped-push", digest, CancellationToken.None));
        Assert.Equal(bytes, File.ReadAllBytes(Registry.BlobPath(digest)));
        // The first offset reported after the restart is where the registry said it stood: where it was stopped.
        Assert.Equal(stoppedAt, afterRestart.First());
        Assert.True(proxy.Relayed < size * 1.6, $"relayed {proxy.Relayed} bytes for a {size}-byte blob");
    }

    [Fact]
    public async Task A_registry_killed_inside_a_chunk_makes_that_blob_start_over_and_the_push_still_completes()
    {
        var size = 4 * 1024 * 1024;
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        var digest = RawPush.Digest(bytes);
        await using var proxy = new SlowProxy(Registry.Port, 2 * 1024 * 1024);
        var client = RetryingClient(proxy);

        var push = client.UploadBlobAsync("faults/killed-push", digest, size, () => new MemoryStream(bytes), 1024 * 1024, null, CancellationToken.None);
        // 1.5 MiB through a 2 MiB/s relay with 1 MiB chunks: inside the second chunk.
        await WaitUntil(() => proxy.Relayed > 1536 * 1024, TimeSpan.FromSeconds(30));
        Registry.Stop();
        await Task.Delay(1500);
        await Registry.StartAgainAsync();
        await push.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(bytes, File.ReadAllBytes(Registry.BlobPath(digest)));
    }

    [Fact]
    public async Task A_paused_pull_resumes_by_task_id_in_a_new_process_with_the_registrys_login()
    {
        var registry = registries.Basic;
        var weights = TestLibrary.Safetensors(6 * 1024 * 1024);
        await using var proxy = new SlowProxy(registry.Port, 3 * 1024 * 1024);
        await using var publisher = TestLibrary.Create();
        var file = Path.Combine(publisher.Root, "big.safetensors");
        File.WriteAllBytes(file, weights);
        var importer = new ModelLibrary.Library.ModelImporter(publisher.Service);
        await importer.ImportAsync(await importer.PlanAsync(new ModelLibrary.Library.ImportRequest { Path = file, Id = "big" }, CancellationToken.None), CancellationToken.None);
        publisher.RegisterSource("slow", new Uri($"http://{proxy.Registry}"), RegistryFixture.User, RegistryFixture.Password);
        var published = await publisher.PublishAsync("big", $"{proxy.Registry}/resume/big:v1");

        var root = Path.Combine(Path.GetTempPath(), "ml-oci-" + Guid.NewGuid().ToString("N")[..10]);
        string taskId;
        await using (var first = TestLibrary.Create(root))
        {
            // The library folder outlives this "process": the second one below resumes from it.
            first.KeepRoot = true;
            first.RegisterSource("slow", new Uri($"http://{proxy.Registry}"), RegistryFixture.User, RegistryFixture.Password);
            var plan = await first.Service.PlanDownloadAsync(published.Reference, force: false, CancellationToken.None);
            await using var manager = first.FastManager();
            var task = await manager.StartAsync(ModelLibrary.Downloads.DownloadRequest.FromResolved(plan.Resolved!), plan.Model);
            taskId = task.TaskId;
            var relayedBefore = proxy.Relayed;
            await WaitUntil(() => proxy.Relayed - relayedBefore > weights.Length / 3, TimeSpan.FromSeconds(30));
            var paused = await manager.SuspendAsync(taskId);
            Assert.Equal(DownloadStatus.Paused, paused.Status);
        }

        // A new process: no token, no client, only the library on disk and the registered source.
        await using var second = TestLibrary.Create(root);
        var resumed = await second.Service.ResumeDownloadAsync(taskId, CancellationToken.None);
        var done = await second.Service.Downloads.WaitAsync(resumed.TaskId);
        var model = await second.Service.GetAsync(published.Reference, CancellationToken.None);

        Assert.Equal(taskId, done.TaskId);
        Assert.Equal(DownloadStatus.Completed, done.Status);
        Assert.Equal(RawPush.Digest(weights), TestLibrary.Sha256(model.LocalPath!));
        Assert.Equal(published.Digest, model.Revision);
    }

    /// <summary>A client through <paramref name="proxy"/> that keeps retrying quickly while the registry is down.</summary>
    static OciRegistryClient RetryingClient(SlowProxy proxy) => new(new Uri($"http://{proxy.Registry}/"), proxy.Registry, RegistryLogin.None)
    {
        RetryDelay = TimeSpan.FromMilliseconds(200),
        RetryMaxDelay = TimeSpan.FromSeconds(1),
        RetryAttempts = 20,
    };

    static async Task WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("condition not reached in " + timeout);
            }

            await Task.Delay(20);
        }
    }

    sealed class Progress : IProgress<long>
    {
        readonly Action<long> report;

        public Progress(Action<long> report) => this.report = report;

        public void Report(long value) => report(value);
    }
}
