using System.Diagnostics;
using static ModelLibrary.Downloads.Tests.TestLibrary;

namespace ModelLibrary.Downloads.Tests;

/// <summary>
/// Issue 9 (items 1, 2, 4, 13) and issue 10 (retries show): servers that lie about sizes, send web pages, redirect
/// where they must not, and URLs with passwords. "Another host" is a name under <c>.invalid</c> (never resolves),
/// so a redirect wrongly followed fails on DNS and nothing leaves the machine.
/// </summary>
public sealed class HostileServerTests
{
    /// <summary>Bounds a test whose failure before the fix was to download forever.</summary>
    static DownloadOptions Bounded => FastOptions with { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task A_body_without_length_that_never_ends_stops_at_the_declared_size_and_leaves_nothing()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(Bounded);
        var model = new ModelInfo { Id = "endless", Name = "endless", Provider = "llama-cpp", Size = 2 * MiB, DownloadUrl = lib.Server.Url("endless/a").ToString(), FileName = "endless.gguf" };

        var error = await Assert.ThrowsAsync<ValidationException>(() => manager.DownloadAsync(model));

        Assert.Equal(ErrorIds.InvalidModelFile, error.ErrorId);
        Assert.Contains("more than the 2.0 MB", error.Message);
        Assert.Contains("declares", error.Message);
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
        Assert.False(File.Exists(lib.Staging(model.Id).State));
        var task = (await manager.GetTasksAsync(model.Id)).Single();
        Assert.Equal(DownloadStatus.Failed, task.Status);
        Assert.Equal(ErrorIds.InvalidModelFile, task.ErrorId);
        // Not one byte past the declared size was written (the server's own count is no guide: Kestrel accepts
        // writes to a connection the client already closed).
        Assert.True(task.DownloadedSize <= 2 * MiB, $"{task.DownloadedSize} bytes");
        Assert.Equal(ModelStatus.Error, lib.Store.GetModel(model.Id)!.Status);
    }

    [Fact]
    public async Task A_stated_size_above_the_declared_one_fails_before_the_body()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("bigger", 3 * MiB, withChecksum: false);
        model.Size = MiB;

        var error = await Assert.ThrowsAsync<ValidationException>(() => lib.NewManager(Bounded).DownloadAsync(model));

        Assert.Equal(ErrorIds.InvalidModelFile, error.ErrorId);
        Assert.Contains("states 3.0 MB", error.Message);
        Assert.Equal(0, lib.Server.Stats.BytesServed);
    }

    [Fact]
    public async Task A_200_with_a_web_page_fails_at_once_saying_so_and_leaves_no_partial()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(Bounded);
        var model = lib.GenModel("gated", 3 * MiB, query: "htmlOnGet=1");

        var error = await Assert.ThrowsAsync<NetworkException>(() => manager.DownloadAsync(model));

        Assert.Contains("web page (text/html)", error.Message);
        Assert.DoesNotContain("started over", error.Message);
        Assert.DoesNotContain(error.ErrorInfo.ResolutionSteps, s => s.Contains("Resume-ModelDownload"));
        Assert.Contains(error.ErrorInfo.ResolutionSteps, s => s.Contains("browser"));
        Assert.False(File.Exists(lib.Staging(model.Id).Partial));
        Assert.Equal(2, lib.PathStats(model).Requests); // HEAD, one GET: no restarts
    }

    [Fact]
    public async Task A_GET_redirected_to_plain_http_on_another_host_is_refused_though_HEAD_answered_directly()
    {
        await using var lib = await CreateAsync();
        var elsewhere = $"http://files.invalid:{lib.Server.BaseUri.Port}/gen/{MiB}/elsewhere";
        var model = lib.GenModel("redirected", MiB, seed: "elsewhere");
        model.DownloadUrl = lib.Server.Url("redirect?getOnly=1&to=" + Uri.EscapeDataString(elsewhere)).ToString();

        var error = await Assert.ThrowsAsync<ModelSecurityException>(() => lib.NewManager(Bounded).DownloadAsync(model));

        Assert.Equal(ErrorIds.InsecureSource, error.ErrorId);
        Assert.Contains("redirected to plain http at 'files.invalid'", error.Message);
        Assert.Equal("redirected", error.Target);
        Assert.Contains(error.ErrorInfo.ResolutionSteps, s => s.Contains("-AllowInsecureHttp"));
    }

    [Fact]
    public async Task A_redirect_loop_says_so_and_does_not_advise_resuming()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("looping", MiB);
        model.DownloadUrl = lib.Server.Url("loop/a").ToString();

        var error = await Assert.ThrowsAsync<NetworkException>(() => lib.NewManager(Bounded).DownloadAsync(model));

        Assert.Contains("redirects in a loop", error.Message);
        Assert.Contains("/loop/b", error.Message);
        Assert.DoesNotContain("302", error.Message);
        Assert.DoesNotContain(error.ErrorInfo.ResolutionSteps, s => s.Contains("Resume-ModelDownload"));
        Assert.True(lib.Server.Stats.ForPath("/loop/a").Requests <= 2, "not retried");
    }

    [Fact]
    public async Task Credentials_in_the_URL_are_sent_as_basic_auth_and_never_shown_or_stored()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(Bounded);
        var model = lib.GenModel("private", 3 * MiB, query: "basicAuth=" + Uri.EscapeDataString(Convert.ToBase64String("alice:Sup3rS3cret"u8.ToArray())));
        model.DownloadUrl = new UriBuilder(model.DownloadUrl!) { UserName = "alice", Password = "Sup3rS3cret" }.Uri.ToString();
        Assert.DoesNotContain("Sup3rS3cret", model.DownloadUrl); // as Get-LibraryModel shows it
        var states = new List<string>();
        manager.TaskChanged += (_, t) =>
        {
            if (File.Exists(lib.Staging(model.Id).State))
            {
                try
                {
                    lock (states)
                    {
                        states.Add(File.ReadAllText(lib.Staging(model.Id).State));
                    }
                }
                catch (IOException)
                {
                }
            }
        };

        var task = await manager.DownloadAsync(model);

        Assert.Equal(model.Checksum, Sha256Of(task.LocalPath!));
        Assert.DoesNotContain("Sup3rS3cret", task.Url);
        Assert.Contains("***@", task.Url);
        Assert.DoesNotContain("Sup3rS3cret", (await lib.Store.GetAsync(task.TaskId, default))!.Url);
        Assert.NotEmpty(states);
        Assert.All(states, s => Assert.DoesNotContain("Sup3rS3cret", s));
    }

    [Fact]
    public async Task A_paused_download_with_credentials_resumes_from_its_source_not_from_a_saved_password()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("private-paused", 3 * MiB, query: "rate=400000&basicAuth=" + Uri.EscapeDataString(Convert.ToBase64String("alice:Sup3rS3cret"u8.ToArray())));
        model.DownloadUrl = new UriBuilder(model.DownloadUrl!) { UserName = "alice", Password = "Sup3rS3cret" }.Uri.ToString();
        var first = lib.NewManager(Bounded);
        var task = await first.StartAsync(model);
        await WaitUntilAsync(() => File.Exists(lib.Staging(model.Id).Partial) && first.GetTaskAsync(task.TaskId).Result.DownloadedSize > 0, 20, "bytes on disk");
        await first.SuspendAsync(task.TaskId);
        Assert.DoesNotContain("Sup3rS3cret", File.ReadAllText(lib.Staging(model.Id).State));

        // By task id alone (no source lists the model): the password is not there to resume with, and it says so.
        var error = await Assert.ThrowsAsync<ModelLibraryException>(() => lib.NewManager(Bounded).ResumeAsync(task.TaskId));
        Assert.Equal(ErrorIds.InvalidDownloadState, error.ErrorId);
        Assert.Contains("credentials", error.Message);

        // With the model from its source, it resumes from the bytes on disk.
        var second = lib.NewManager(Bounded);
        await second.ResumeAsync(task.TaskId, model);
        var done = await second.WaitAsync(task.TaskId);
        Assert.Equal(DownloadStatus.Completed, done.Status);
        Assert.Equal(model.Checksum, Sha256Of(done.LocalPath!));
    }

    [Fact]
    public async Task A_failure_of_a_URL_with_credentials_masks_them_in_message_details_and_task()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(Bounded);
        var model = lib.GenModel("private-missing", MiB, query: "status=404");
        model.DownloadUrl = new UriBuilder(model.DownloadUrl!) { UserName = "alice", Password = "Sup3rS3cret" }.Uri.ToString();

        var error = await Assert.ThrowsAsync<NetworkException>(() => manager.DownloadAsync(model));

        Assert.DoesNotContain("Sup3rS3cret", error.Message);
        Assert.DoesNotContain("Sup3rS3cret", (string)error.ErrorInfo.Details["url"]!);
        var task = (await manager.GetTasksAsync(model.Id)).Single();
        Assert.DoesNotContain("Sup3rS3cret", task.Url + task.ErrorMessage);
    }

    [Fact]
    public async Task Credentials_over_plain_http_to_another_host_are_refused_even_when_insecure_http_is_allowed()
    {
        await using var lib = await CreateAsync();
        var model = lib.GenModel("leaky", MiB);
        model.DownloadUrl = "http://alice:Sup3rS3cret@models.invalid/x.gguf";

        var error = await Assert.ThrowsAsync<ModelSecurityException>(() => lib.NewManager(Bounded).StartAsync(model, allowInsecureHttp: true));

        Assert.Equal(ErrorIds.InsecureSource, error.ErrorId);
        Assert.Contains("user name and password", error.Message);
        Assert.DoesNotContain("Sup3rS3cret", error.Message + string.Join(" ", error.ErrorInfo.Details.Values));
        Assert.Empty(await lib.NewManager().GetTasksAsync());
    }

    [Fact]
    public async Task Each_retry_is_reported_with_what_failed_and_the_wait_and_counted_in_the_task()
    {
        await using var lib = await CreateAsync();
        var manager = lib.NewManager(Bounded);
        var model = lib.GenModel("flaky", 300 * KiB, query: "status=503&failFirst=2");
        var messages = new List<string>();
        manager.Message += (_, m) =>
        {
            lock (messages)
            {
                messages.Add(m.Text);
            }
        };

        var task = await manager.DownloadAsync(model);

        Assert.Equal(2, task.Retries);
        Assert.Contains("HTTP 503", task.LastRetry);
        Assert.Contains("retry 2 of 4 in", task.LastRetry);
        lock (messages)
        {
            Assert.Contains(messages, m => m.Contains("HTTP 503") && m.Contains("retry 1 of 4 in") && m.EndsWith(" s."));
            Assert.Contains(messages, m => m.StartsWith("Downloading 'flaky' from source") && m.Contains("/gen/"));
        }
    }
}
