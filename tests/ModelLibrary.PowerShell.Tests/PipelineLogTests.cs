using System.Management.Automation;
using ModelLibrary.PowerShell.Infrastructure;
using Xunit;

namespace ModelLibrary.PowerShell.Tests;

/// <summary>
/// The log lines CI systems parse. Expected escapes follow the parsers: microsoft/azure-pipelines-agent
/// (CommandStringConvertor: ';' '\r' '\n' ']' and '%' as %AZP25) and actions/runner ActionCommand.cs (data: '%' '\r'
/// '\n'; properties also ':' ','). End-to-end lines from a real pwsh are checked in Pester (Automation.Tests.ps1).
/// </summary>
public class PipelineLogTests
{
    [Theory]
    [InlineData("True", null, PipelineKind.AzurePipelines)]
    [InlineData("true", "true", PipelineKind.AzurePipelines)]
    [InlineData(null, "true", PipelineKind.GitHubActions)]
    [InlineData("False", "false", PipelineKind.None)]
    [InlineData(null, null, PipelineKind.None)]
    [InlineData("1", "1", PipelineKind.None)]
    public void Detects_the_ci_system_from_its_variables(string? tfBuild, string? githubActions, PipelineKind expected)
    {
        var env = new Dictionary<string, string?> { ["TF_BUILD"] = tfBuild, ["GITHUB_ACTIONS"] = githubActions };
        Assert.Equal(expected, PipelineLog.Detect(name => env.GetValueOrDefault(name)));
    }

    [Fact]
    public void Azure_escapes_percent_first_then_the_command_characters()
    {
        Assert.Equal("100%AZP25 done%3B next%5D%0D%0Aline", PipelineLog.EscapeAzure("100% done; next]\r\nline"));
        var log = new PipelineLog(PipelineKind.AzurePipelines);
        Assert.Equal(new[] { "##vso[task.logissue type=error;]No model has the id 'a%3Bb%5Dc'.%0Anext" }, log.Error("ModelNotFound", "No model has the id 'a;b]c'.\nnext"));
        Assert.Equal(new[] { "##vso[task.logissue type=warning;]50%AZP25" }, log.Warning("50%"));
    }

    [Fact]
    public void GitHub_escapes_data_and_properties_as_the_runner_unescapes_them()
    {
        Assert.Equal("a%25b%0D%0Ac: d, e", PipelineLog.EscapeGitHubData("a%b\r\nc: d, e"));
        Assert.Equal("a%25b%3A c%2C d", PipelineLog.EscapeGitHubProperty("a%b: c, d"));
        var log = new PipelineLog(PipelineKind.GitHubActions);
        Assert.Equal(new[] { "::error title=Odd%3AId%2Cx::line one%0Aline two: 100%25" }, log.Error("Odd:Id,x", "line one\nline two: 100%"));
        Assert.Equal(new[] { "::warning::careful" }, log.Warning("careful"));
    }

    [Fact]
    public void Writes_nothing_outside_a_ci_system()
    {
        var log = new PipelineLog(PipelineKind.None);
        Assert.Empty(log.Error("ModelNotFound", "x"));
        Assert.Empty(log.Warning("x"));
        Assert.Empty(log.Progress(Record(1, "Downloading a", 50)));
        Assert.Empty(log.Flush());
    }

    [Fact]
    public void Azure_progress_is_throttled_to_twice_a_second_but_always_tells_completion()
    {
        var now = DateTimeOffset.UnixEpoch;
        var log = new PipelineLog(PipelineKind.AzurePipelines, () => now);
        Assert.Equal(new[] { "##vso[task.setprogress value=10;]Downloading a" }, log.Progress(Record(1, "Downloading a", 10)));
        now += TimeSpan.FromMilliseconds(100);
        Assert.Empty(log.Progress(Record(1, "Downloading a", 20)));
        now += TimeSpan.FromMilliseconds(450);
        Assert.Equal(new[] { "##vso[task.setprogress value=30;]Downloading a" }, log.Progress(Record(1, "Downloading a", 30)));
        now += TimeSpan.FromMilliseconds(600);
        Assert.Empty(log.Progress(Record(1, "Downloading a", 30)));
        now += TimeSpan.FromMilliseconds(10);
        Assert.Equal(new[] { "##vso[task.setprogress value=100;]Downloading a" }, log.Progress(Record(1, "Downloading a", 99, completed: true)));
        Assert.Empty(log.Progress(Record(1, "Downloading a", 100, completed: true)));
        Assert.Empty(log.Progress(Record(2, "Unknown size", -1)));
    }

    [Fact]
    public void GitHub_groups_each_activity_and_never_interleaves_them()
    {
        var log = new PipelineLog(PipelineKind.GitHubActions);
        var lines = new List<string>();
        lines.AddRange(log.Progress(Record(1, "Downloading a", 0, status: "a 0%")));
        lines.AddRange(log.Progress(Record(2, "Downloading b", 0, status: "b 0%")));
        lines.AddRange(log.Progress(Record(1, "Downloading a", 5, status: "a 5%")));   // same tenth: no line
        lines.AddRange(log.Progress(Record(2, "Downloading b", 50, status: "b 50%")));
        lines.AddRange(log.Progress(Record(1, "Downloading a", 100, status: "a done", completed: true)));
        lines.AddRange(log.Progress(Record(1, "Downloading a", 100, status: "a done again", completed: true)));
        lines.AddRange(log.Progress(Record(2, "Downloading b", 100, status: "b done", completed: true)));
        Assert.Equal(new[]
        {
            "::group::Downloading a", "a 0%", "a done", "::endgroup::",
            "::group::Downloading b", "b 0%", "b 50%", "b done", "::endgroup::",
        }, lines);
        Assert.Empty(log.Flush());
    }

    [Fact]
    public void GitHub_flush_closes_the_open_group_and_writes_the_waiting_ones()
    {
        var log = new PipelineLog(PipelineKind.GitHubActions);
        var lines = new List<string>();
        lines.AddRange(log.Progress(Record(1, "Downloading a", 10, status: "a")));
        lines.AddRange(log.Progress(Record(2, "Downloading b", 10, status: "b")));
        lines.AddRange(log.Flush());
        Assert.Equal(new[] { "::group::Downloading a", "a", "::endgroup::", "::group::Downloading b", "b", "::endgroup::" }, lines);
    }

    static ProgressRecord Record(int id, string activity, int percent, string status = "working", bool completed = false) =>
        new(id, activity, status)
        {
            PercentComplete = percent,
            RecordType = completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
}
