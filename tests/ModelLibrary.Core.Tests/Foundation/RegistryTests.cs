using Microsoft.Data.Sqlite;
using ModelLibrary.Registry;

namespace ModelLibrary.Tests.Foundation;

public class RegistryTests
{
    [Fact]
    public void Creates_schema_in_wal_mode_with_version()
    {
        using var dir = new TempDirectory();
        var db = new RegistryDatabase(dir.Combine("registry.db"));
        Assert.Equal(RegistryDatabase.CurrentSchemaVersion, db.SchemaVersion());
        var mode = db.Read(c =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA journal_mode";
            return (string)cmd.ExecuteScalar()!;
        });
        Assert.Equal("wal", mode);
    }

    [Fact]
    public void Refuses_a_registry_from_a_newer_module()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("registry.db");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 999";
            cmd.ExecuteNonQuery();
        }

        var e = Assert.Throws<ModelLibraryException>(() => new RegistryDatabase(path).SchemaVersion());
        Assert.Contains("999", e.Message);
    }

    [Fact]
    public void Model_rows_round_trip_every_field()
    {
        using var dir = new TempDirectory();
        var store = new ModelStore(new RegistryDatabase(dir.Combine("registry.db")));
        var model = new ModelInfo
        {
            Id = "m", Name = "M", Provider = "llama-cpp", Size = 42, Description = "d", Capabilities = new[] { "chat" },
            Status = ModelStatus.Local, LocalPath = "/x/m.gguf", DownloadUrl = "https://e/m.gguf", Checksum = "sha256:" + new string('a', 64),
            DiskUsage = 42, DownloadDate = DateTimeOffset.Parse("2026-01-02T03:04:05Z"), Source = "builtin", Format = "gguf", FileName = "m.gguf",
            Metadata = new ModelMetadata { Parameters = "1B", Quantization = "Q4_K_M", ContextLength = 2048, Tags = new[] { "t" }, PerformanceMetrics = { ["accuracy_score"] = 0.85 } },
        };
        model.AdditionalProperties["owner"] = "team";
        store.Upsert(model);
        var read = store.Get("m")!;
        Assert.Equal(ModelStatus.Local, read.Status);
        Assert.Equal(42, read.Size);
        Assert.Equal(new[] { "chat" }, read.Capabilities);
        Assert.Equal("Q4_K_M", read.Metadata.Quantization);
        Assert.Equal(2048, read.Metadata.ContextLength);
        Assert.Equal(0.85, read.Metadata.PerformanceMetrics["accuracy_score"]);
        Assert.Equal(model.DownloadDate, read.DownloadDate);
        Assert.Equal("team", read.AdditionalProperties["owner"]);
        Assert.True(store.Delete("m"));
        Assert.Null(store.Get("m"));
    }

    [Fact]
    public void A_failed_write_rolls_back()
    {
        using var dir = new TempDirectory();
        var db = new RegistryDatabase(dir.Combine("registry.db"));
        var store = new ModelStore(db);
        store.Upsert(new ModelInfo { Id = "keep", Name = "k", Provider = "p" });
        Assert.Throws<InvalidOperationException>(() => store.Update("keep", () => null, m =>
        {
            m.Status = ModelStatus.Error;
            throw new InvalidOperationException("boom");
        }));
        Assert.Equal(ModelStatus.Available, store.Get("keep")!.Status);
    }

    [Fact]
    public void Concurrent_writers_from_many_threads_do_not_lose_rows()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("registry.db");
        Parallel.For(0, 8, worker =>
        {
            // A database object per worker, as two processes would have.
            var tasks = new TaskStore(new RegistryDatabase(path));
            for (var i = 0; i < 25; i++)
            {
                tasks.Upsert(new DownloadTask { TaskId = $"t{worker}-{i}", ModelId = "m", Url = "u", FileName = "f", Status = DownloadStatus.Downloading });
            }
        });
        Assert.Equal(200, new TaskStore(new RegistryDatabase(path)).List().Count);
    }

    [Fact]
    public void Tasks_round_trip()
    {
        using var dir = new TempDirectory();
        var database = new RegistryDatabase(dir.Combine("registry.db"));
        var tasks = new TaskStore(database);
        var task = new DownloadTask
        {
            TaskId = "t1", ModelId = "m", Url = "https://e/f", FileName = "f", TotalSize = 100, DownloadedSize = 40, Progress = 0.4,
            Status = DownloadStatus.Paused, StartTime = DateTimeOffset.Parse("2026-01-01T00:00:00Z"), BytesPerSecond = 10, EstimatedTimeRemaining = 6,
        };
        tasks.Upsert(task, ownerPid: 1234);
        var read = tasks.Get("t1")!;
        Assert.Equal(DownloadStatus.Paused, read.Status);
        Assert.Equal(40, read.DownloadedSize);
        Assert.Equal(0.4, read.Progress);
        Assert.Equal(task.StartTime, read.StartTime);
        Assert.Equal(1234, OwnerPid(database, "t1"));
        Assert.Single(tasks.ForModel("m"));
    }

    [Fact]
    public void Sources_are_unique_by_name_ignoring_case()
    {
        using var dir = new TempDirectory();
        var sources = new SourceStore(new RegistryDatabase(dir.Combine("registry.db")));
        Assert.True(sources.Add(new SourceRecord("Team", "https://e/c.json", "Http", false, null)));
        Assert.False(sources.Add(new SourceRecord("team", "https://e/other.json", "Http", false, null)));
        Assert.Equal("https://e/c.json", Assert.Single(sources.List()).Uri);
        Assert.True(sources.Remove("TEAM"));
        Assert.Empty(sources.List());
    }

    [Fact]
    public void Metadata_gaps_are_filled_without_overriding()
    {
        var catalog = new ModelMetadata { Quantization = "Q4_K_M", Tags = new[] { "chat" } };
        catalog.FillGapsFrom(new ModelMetadata { Quantization = "Q8_0", ParameterCount = 1100000000, Tags = new[] { "x" }, HasChatTemplate = true });
        Assert.Equal("Q4_K_M", catalog.Quantization);
        Assert.Equal(1100000000, catalog.ParameterCount);
        Assert.True(catalog.HasChatTemplate);
        Assert.Equal(new[] { "chat" }, catalog.Tags);
    }

    [Fact]
    public void A_registry_that_cannot_be_created_is_a_clear_error()
    {
        using var dir = new TempDirectory();
        var blocker = dir.Combine("file");
        File.WriteAllText(blocker, "not a directory");
        var e = Assert.Throws<ModelLibraryException>(() => new RegistryDatabase(Path.Combine(blocker, "lib", "registry.db")).SchemaVersion());
        Assert.Equal(ErrorIds.RegistryUnavailable, e.ErrorId);
        Assert.Contains("registry.db", e.Message);
        Assert.Equal(ErrorKind.ResourceUnavailable, e.Kind);
    }

    /// <summary>The owner_pid column as written (only diagnostics read it; the library itself does not).</summary>
    static int? OwnerPid(RegistryDatabase database, string taskId) => database.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT owner_pid FROM download_tasks WHERE task_id = $v";
        command.Parameters.AddWithValue("$v", taskId);
        return command.ExecuteScalar() is long pid ? (int?)pid : null;
    });
}
