using System.Text.Json;
using ModelLibrary.TestServer;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Points 1, 2 and 4: fetch, split, verify, move, register.</summary>
public sealed class TransferTests
{
    [Fact]
    public async Task Download_lands_verified_in_the_provider_folder_and_marks_the_model_local()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel("tiny-q4", 3 * MiB + 123);

        var task = await manager.DownloadAsync(model);

        var target = lib.TargetPath(model);
        Assert.Equal(DownloadStatus.Completed, task.Status);
        Assert.Equal(target, task.LocalPath);
        Assert.Equal(model.Checksum, Sha256Of(target));
        Assert.Equal(model.Checksum, task.Checksum);
        Assert.Equal(1.0, task.Progress);
        Assert.Equal(model.Size, task.DownloadedSize);
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
        Assert.False(File.Exists(lib.Staging(model.Id).State));

        var state = lib.Store.GetModel(model.Id)!;
        Assert.Equal(ModelStatus.Local, state.Status);
        Assert.Equal(target, state.File!.LocalPath);
        Assert.Equal(model.Size, state.File.DiskUsage);
        Assert.Equal(model.Checksum, state.File.Checksum);
        Assert.True(DateTimeOffset.UtcNow - state.File.DownloadDate < TimeSpan.FromMinutes(1));
        Assert.Equal(DownloadStatus.Completed, (await lib.Store.GetAsync(task.TaskId, default))!.Status);
    }

    [Fact]
    public async Task Transformers_model_lands_in_the_transformers_folder()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("tiny-st", 200 * KiB, provider: "transformers", fileName: "model.safetensors");

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(Path.Combine(lib.Root, "transformers", "tiny-st", "model.safetensors"), task.LocalPath);
        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
    }

    [Fact]
    public async Task Without_a_known_checksum_the_computed_one_is_recorded()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("no-sum", 500 * KiB, withChecksum: false);

        var task = await lib.NewManager().DownloadAsync(model);

        var expected = "sha256:" + LoopbackServer.GenSha256(500 * KiB, "no-sum");
        Assert.Equal(expected, task.Checksum);
        Assert.Equal(expected, lib.Store.GetModel(model.Id)!.File!.Checksum);
    }

    [Fact]
    public async Task Receives_are_written_in_slices_of_the_write_size_without_a_byte_out_of_place()
    {
        await using var lib = await CreateAsync(connections: 4);
        // A write size that divides neither the receive buffer nor the parts, over several ranged connections.
        var options = FastOptions with { WriteSize = 1000, SingleConnectionRate = 0 };
        var model = lib.GenModel("sliced", 3 * MiB + 77, query: "rate=8388608");

        var task = await lib.NewManager(options).DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.Equal(3 * MiB + 77, new FileInfo(task.LocalPath!).Length);
    }

    [Fact]
    public async Task Large_file_is_fetched_in_parallel_ranged_parts()
    {
        await using var lib = await CreateAsync(connections: 4);
        // 8 parts of 1 MiB at 4 MiB/s per response: four connections overlap for sure.
        var model = lib.GenModel("split", 8 * MiB, query: "rate=4194304");

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.Equal(4, lib.Server.Stats.MaxConcurrent);
        Assert.Equal(8, lib.PathStats(model).RangeRequests);
        Assert.Equal(8 * MiB, lib.PathStats(model).BytesServed);
    }

    [Fact]
    public async Task A_single_connection_fast_enough_keeps_the_others_out()
    {
        await using var lib = await CreateAsync(connections: 4);
        // 6 MiB/s per response is far above a threshold of 256 KiB/s (a margin for a loaded machine): the ranged parts stay on one connection.
        var model = lib.GenModel("one-conn", 8 * MiB, query: "rate=6291456");

        var task = await lib.NewManager(FastOptions with { SingleConnectionRate = MiB / 4, ConnectionRampWindow = TimeSpan.FromMilliseconds(300) }).DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.Equal(1, lib.Server.Stats.MaxConcurrent);
        Assert.Equal(8, lib.PathStats(model).RangeRequests);
        Assert.Equal(8 * MiB, lib.PathStats(model).BytesServed);
    }

    [Fact]
    public async Task A_first_connection_slower_than_the_threshold_brings_the_others_in()
    {
        await using var lib = await CreateAsync(connections: 3);
        var model = lib.GenModel("ramp-up", 8 * MiB, query: "rate=2097152");

        var task = await lib.NewManager(FastOptions with { SingleConnectionRate = 64 * MiB, ConnectionRampWindow = TimeSpan.FromMilliseconds(100) }).DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.Equal(3, lib.Server.Stats.MaxConcurrent);
        Assert.Equal(8, lib.PathStats(model).RangeRequests);
        Assert.Equal(8 * MiB, lib.PathStats(model).BytesServed);
    }

    [Fact]
    public async Task Server_without_ranges_gets_one_plain_stream()
    {
        await using var lib = await CreateAsync(connections: 4);
        var model = lib.GenModel("noranges", 3 * MiB, query: "noRanges=1");

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.Equal(0, lib.PathStats(model).RangeRequests);
        Assert.Equal(2, lib.PathStats(model).Requests); // HEAD, GET
        Assert.Equal(1, lib.Server.Stats.MaxConcurrent);
    }

    [Fact]
    public async Task Unknown_length_is_streamed_to_the_end()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("chunked", 2 * MiB + 7, query: "noLength=1");
        model.Size = null;

        var task = await lib.NewManager().DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.Equal(2 * MiB + 7, task.TotalSize);
    }

    [Fact]
    public async Task Corrupt_bytes_fail_with_ChecksumMismatch_and_nothing_lands()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel("corrupt", 3 * MiB, query: "corrupt=1");

        var error = await Assert.ThrowsAsync<ValidationException>(() => manager.DownloadAsync(model));

        Assert.Equal(ErrorIds.ChecksumMismatch, error.ErrorId);
        Assert.Contains(model.Checksum!, error.Message);
        Assert.False(File.Exists(lib.TargetPath(model)));
        Assert.False(Directory.Exists(Path.GetDirectoryName(lib.TargetPath(model))));
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
        Assert.False(File.Exists(lib.Staging(model.Id).State));
        Assert.Equal(ModelStatus.Error, lib.Store.GetModel(model.Id)!.Status);
        var task = (await manager.GetTasksAsync(model.Id)).Single();
        Assert.Equal(DownloadStatus.Failed, task.Status);
        Assert.Equal(ErrorIds.ChecksumMismatch, task.ErrorId);
    }

    [Fact]
    public async Task Validator_failure_fails_the_task_and_deletes_the_partial()
    {
        await using var lib = await CreateAsync();
        var validator = new RecordingValidator(fail: true);
        var manager = lib.NewManager(FastOptions with { Validator = validator });
        var model = lib.GenModel("bad-header", 300 * KiB);

        var error = await Assert.ThrowsAsync<ValidationException>(() => manager.DownloadAsync(model));

        Assert.Equal(ErrorIds.InvalidModelFile, error.ErrorId);
        Assert.EndsWith(".partial", validator.SeenPath);
        Assert.Equal(model.Id, validator.SeenModel!.Id);
        Assert.False(File.Exists(lib.TargetPath(model)));
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
    }

    [Fact]
    public async Task Validator_sees_the_verified_file_before_it_moves()
    {
        await using var lib = await CreateAsync();
        var validator = new RecordingValidator(fail: false);
        var manager = lib.NewManager(FastOptions with { Validator = validator });
        var model = lib.GenModel("good-header", 300 * KiB);

        var task = await manager.DownloadAsync(model);

        Assert.Equal(model.Checksum, validator.SeenChecksum);
        Assert.Equal(DownloadStatus.Completed, task.Status);
    }

    [Fact]
    public async Task Catalog_entry_from_the_server_downloads()
    {
        var content = Directory.CreateTempSubdirectory("ml-content-");
        try
        {
            var bytes = new byte[1_500_000];
            new Random(5).NextBytes(bytes);
            Directory.CreateDirectory(Path.Combine(content.FullName, "sub"));
            await File.WriteAllBytesAsync(Path.Combine(content.FullName, "sub", "Tiny Model.gguf"), bytes);
            await using var lib = await CreateAsync(content.FullName);
            using var http = new HttpClient();
            using var catalog = JsonDocument.Parse(await http.GetStringAsync(lib.Server.Url("catalog.json")));
            var entry = catalog.RootElement.GetProperty("models")[0];
            var model = new ModelInfo
            {
                Id = entry.GetProperty("id").GetString()!,
                Provider = entry.GetProperty("provider").GetString()!,
                Size = entry.GetProperty("size").GetInt64(),
                DownloadUrl = entry.GetProperty("download_url").GetString(),
                Checksum = entry.GetProperty("checksum").GetString(),
                FileName = entry.GetProperty("filename").GetString(),
                Format = entry.GetProperty("format").GetString(),
            };

            var task = await lib.NewManager().DownloadAsync(model);

            Assert.Equal("llama-cpp", model.Provider);
            Assert.Equal("gguf", model.Format);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(task.LocalPath!));
        }
        finally
        {
            content.Delete(recursive: true);
        }
    }

    sealed class RecordingValidator : IModelFileValidator
    {
        readonly bool fail;

        public RecordingValidator(bool fail) => this.fail = fail;

        public string? SeenPath { get; private set; }
        public ModelInfo? SeenModel { get; private set; }
        public string? SeenChecksum { get; private set; }

        public Task ValidateAsync(string path, ModelInfo model, CancellationToken cancellationToken)
        {
            SeenPath = path;
            SeenModel = model;
            SeenChecksum = Sha256Of(path);
            if (fail)
            {
                throw new InvalidDataException("not a GGUF file: bad magic");
            }

            return Task.CompletedTask;
        }
    }
}
