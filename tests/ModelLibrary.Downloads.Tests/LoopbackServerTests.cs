using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using ModelLibrary.TestServer;

namespace ModelLibrary.Downloads.Tests;

/// <summary>The test server itself: what the engine tests rely on.</summary>
public sealed class LoopbackServerTests
{
    [Fact]
    public async Task Generated_content_is_deterministic_ranged_and_digested()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var http = new HttpClient();
        var whole = await http.GetByteArrayAsync(server.GenUrl(100_003, "7"));
        var digest = await http.GetStringAsync(server.Url("gen/100003/7.sha256"));

        using var ranged = new HttpRequestMessage(HttpMethod.Get, server.GenUrl(100_003, "7"));
        ranged.Headers.Range = new RangeHeaderValue(1001, 2000);
        using var response = await http.SendAsync(ranged);

        Assert.Equal(100_003, whole.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(whole)), digest);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal("bytes 1001-2000/100003", response.Content.Headers.ContentRange!.ToString());
        Assert.Equal(whole[1001..2001], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(whole, await http.GetByteArrayAsync(server.Url("gen/100003/7")));
        Assert.NotEqual(whole, await http.GetByteArrayAsync(server.GenUrl(100_003, "8")));
    }

    [Fact]
    public async Task Unsatisfiable_ranges_get_416_and_mismatched_If_Range_gets_the_whole_file()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var http = new HttpClient();
        using var beyond = new HttpRequestMessage(HttpMethod.Get, server.GenUrl(1000, "1"));
        beyond.Headers.Range = new RangeHeaderValue(5000, null);
        using var ifRange = new HttpRequestMessage(HttpMethod.Get, server.GenUrl(1000, "1"));
        ifRange.Headers.Range = new RangeHeaderValue(10, null);
        ifRange.Headers.IfRange = new RangeConditionHeaderValue("\"stale\"");

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, (await http.SendAsync(beyond)).StatusCode);
        var whole = await http.SendAsync(ifRange);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(1000, (await whole.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Faults_change_status_headers_and_bodies()
    {
        await using var server = await LoopbackServer.StartAsync();
        using var http = new HttpClient();
        var url = server.GenUrl(10_000, "f", "status=503&failFirst=1&retryAfter=7");
        using var first = await http.GetAsync(url);
        using var second = await http.GetAsync(url);
        var clean = await http.GetByteArrayAsync(server.GenUrl(10_000, "f"));
        var corrupt = await http.GetByteArrayAsync(server.GenUrl(10_000, "f", "corrupt=1"));
        using var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, server.GenUrl(10_000, "f", "noRanges=1&etag=v2")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), first.Headers.RetryAfter!.Delta);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(clean.Length, corrupt.Length);
        Assert.NotEqual(clean, corrupt);
        Assert.Empty(head.Headers.AcceptRanges);
        Assert.Equal("\"v2\"", head.Headers.ETag!.ToString());
        await Assert.ThrowsAnyAsync<Exception>(() => http.GetByteArrayAsync(server.GenUrl(10_000, "f", "dropAfter=100")));
    }

    [Fact]
    public async Task Catalogs_and_statistics_are_served()
    {
        var root = Directory.CreateTempSubdirectory("ml-content-");
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root.FullName, "a.safetensors"), "hello");
            await using var server = await LoopbackServer.StartAsync(root.FullName);
            using var http = new HttpClient();

            using var catalog = JsonDocument.Parse(await http.GetStringAsync(server.Url("catalog.json")));
            var entry = catalog.RootElement.GetProperty("models")[0];
            await http.PostAsync(server.Url("_control/catalog"), new StringContent("{\"models\":[]}"));
            var custom = await http.GetStringAsync(server.Url("custom-catalog.json"));
            var malformed = await http.GetStringAsync(server.Url("_control/malformed"));
            using var stats = JsonDocument.Parse(await http.GetStringAsync(server.Url("_stats")));

            Assert.Equal("transformers", entry.GetProperty("provider").GetString());
            Assert.Equal("safetensors", entry.GetProperty("format").GetString());
            Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData("hello"u8.ToArray())), entry.GetProperty("checksum").GetString());
            Assert.Equal("hello", await http.GetStringAsync(entry.GetProperty("download_url").GetString()));
            Assert.Equal("{\"models\":[]}", custom);
            Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(malformed));
            Assert.True(stats.RootElement.GetProperty("requests").GetInt64() >= 0);
            Assert.True(stats.RootElement.TryGetProperty("maxConcurrent", out _));

            await http.PostAsync(server.Url("_stats/reset"), null);
            Assert.Equal(0, server.Stats.Requests);
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task As_a_process_it_prints_its_url_first_and_stops_when_stdin_closes()
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(LoopbackServer).Assembly.Location);
        using var process = System.Diagnostics.Process.Start(start)!;
        var line = await process.StandardOutput.ReadLineAsync();
        Assert.StartsWith("Listening on http://127.0.0.1:", line);
        using var http = new HttpClient();
        Assert.Equal(64, (await http.GetByteArrayAsync(new Uri(new Uri(line!["Listening on ".Length..]), "gen/64/1"))).Length);

        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(0, process.ExitCode);
    }
}
