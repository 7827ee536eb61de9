using ModelLibrary.Configuration;
using ModelLibrary.Files;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>Point 6: checks made before the first byte.</summary>
public sealed class PreflightTests
{
    [Fact]
    public async Task A_declared_size_larger_than_the_disk_fails_before_any_request()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        var model = lib.GenModel("huge", MiB);
        model.Size = 1L << 55; // 32 PiB

        var error = await Assert.ThrowsAsync<DiskSpaceException>(() => manager.StartAsync(model));

        Assert.Equal(ErrorIds.InsufficientDiskSpace, error.ErrorId);
        Assert.True(error.RequiredSpace > 1L << 55);
        Assert.True(error.AvailableSpace > 0 && error.AvailableSpace < error.RequiredSpace);
        Assert.Equal(error.RequiredSpace, error.ErrorInfo.Details["required_space"]);
        Assert.Equal("huge", error.ErrorInfo.Details["model_id"]);
        Assert.Equal(0, lib.Server.Stats.Requests);
        Assert.Empty(await manager.GetTasksAsync());
    }

    [Fact]
    public async Task A_size_from_HEAD_larger_than_the_disk_fails_before_the_body()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager();
        // The catalog does not say; the server says 64 PiB (generated content needs no disk on its side).
        var model = lib.GenModel("huge-head", 1L << 56, withChecksum: false);
        model.Size = null;

        var error = await Assert.ThrowsAsync<DiskSpaceException>(() => manager.DownloadAsync(model));

        Assert.Equal(ErrorIds.InsufficientDiskSpace, error.ErrorId);
        Assert.Equal(1, lib.Server.Stats.Requests); // the HEAD
        Assert.Equal(0, lib.Server.Stats.BytesServed);
    }

    [Theory]
    [InlineData("http://models.example.com/tiny.gguf")]
    [InlineData("ftp://127.0.0.1/tiny.gguf")]
    [InlineData("file:///etc/passwd")]
    public async Task Insecure_sources_are_refused(string url)
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("insecure", MiB);
        model.DownloadUrl = url;

        var error = await Assert.ThrowsAsync<ModelSecurityException>(() => lib.NewManager().StartAsync(model));

        Assert.Equal(ErrorIds.InsecureSource, error.ErrorId);
        Assert.NotEmpty(error.ErrorInfo.ResolutionSteps);
    }

    [Fact]
    public void Plain_http_is_allowed_to_loopback_or_when_the_source_allows_it()
    {
        Preflight.CheckSource(new Uri("http://127.0.0.1:5000/x"), false, "m");
        Preflight.CheckSource(new Uri("http://localhost/x"), false, "m");
        Preflight.CheckSource(new Uri("http://[::1]/x"), false, "m");
        Preflight.CheckSource(new Uri("http://models.example.com/x"), true, "m");
        Preflight.CheckSource(new Uri("https://models.example.com/x"), false, "m");
    }

    [Theory]
    [InlineData("../../etc/x", "model")]
    [InlineData("../other-model/model.gguf", "model")]
    [InlineData("/etc/passwd", "model")]
    [InlineData("sub/../../x.gguf", "model")]
    [InlineData("model.gguf", "../../escape")]
    [InlineData("model.gguf", "..")]
    public async Task File_names_and_ids_that_leave_the_provider_folder_are_refused(string fileName, string modelId)
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("safe", MiB);
        model.Id = modelId;
        model.FileName = fileName;

        var error = await Assert.ThrowsAsync<ModelSecurityException>(() => lib.NewManager().StartAsync(model));

        Assert.Equal(ErrorIds.UnsafeModelContent, error.ErrorId);
        Assert.Equal(0, lib.Server.Stats.Requests);
    }

    [Fact]
    public void Containment_compares_path_segments_not_string_prefixes()
    {
        var root = Path.Combine(Path.GetTempPath(), "lib", "llama-cpp");
        Assert.False(PathContainment.IsInsideAsWritten(root + "-evil" + Path.DirectorySeparatorChar + "x.gguf", root));
        Assert.False(PathContainment.IsInsideAsWritten(root, root));
        Assert.True(PathContainment.IsInsideAsWritten(Path.Combine(root, "m", "x.gguf"), root));
        Assert.True(PathContainment.IsInsideAsWritten(Path.Combine(root, "..x", "x.gguf"), root));
    }

    [Fact]
    public void A_model_folder_that_links_out_of_the_provider_folder_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var dir = Path.Combine(Path.GetTempPath(), "ml-link-" + Guid.NewGuid().ToString("n")[..8]);
        var outside = Path.Combine(dir, "outside");
        Directory.CreateDirectory(outside);
        var configuration = LibraryConfiguration.FromEnvironment(new System.Collections.Hashtable { ["MODELS_DIR"] = Path.Combine(dir, "lib") });
        Directory.CreateDirectory(configuration.LlamaCppModelsDirectory);
        Directory.CreateSymbolicLink(Path.Combine(configuration.LlamaCppModelsDirectory, "evil"), outside);
        try
        {
            var request = new DownloadRequest { ModelId = "evil", Url = new Uri("http://127.0.0.1/x.gguf"), Provider = "llama-cpp", FileName = "x.gguf" };
            var error = Assert.Throws<ModelSecurityException>(() => DownloadPaths.For(configuration, request));
            Assert.Equal(ErrorIds.UnsafeModelContent, error.ErrorId);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("tinyllama-1.1b-chat-q4", "tinyllama-1.1b-chat-q4")]
    [InlineData("TheBloke/Llama-2", null)]
    [InlineData("Model", null)]
    public void Staging_file_names_are_safe_and_distinct(string id, string? expected)
    {
        var key = ModelNames.FileKey(id);
        if (expected is not null)
        {
            Assert.Equal(expected, key);
        }
        else
        {
            Assert.DoesNotContain('/', key);
            Assert.NotEqual(ModelNames.FileKey(id.ToLowerInvariant()), key);
        }
    }
}
