using System.Globalization;
using System.Management.Automation;
using System.Text;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>The CI system a run is in, told by the variables each one sets on every step.</summary>
public enum PipelineKind
{
    None,
    /// <summary><c>TF_BUILD=True</c>: Azure Pipelines, which reads <c>##vso[...]</c> logging commands.</summary>
    AzurePipelines,
    /// <summary><c>GITHUB_ACTIONS=true</c>: GitHub Actions, which reads <c>::command::</c> workflow commands.</summary>
    GitHubActions,
}

/// <summary>
/// What a CI system should see of a cmdlet's errors, warnings and progress, as the log lines it parses: annotations
/// for errors and warnings, the step's progress (Azure Pipelines), one collapsible group per long piece of work
/// (GitHub Actions). One instance per cmdlet invocation; it only formats and throttles, the cmdlet writes the lines
/// (<see cref="ModelLibraryCmdlet"/>, where every error, warning and progress record of the module passes).
/// </summary>
/// <remarks>
/// Formats, from the CI systems' own sources:
/// Azure Pipelines: microsoft/azure-pipelines-agent (Agent.Sdk CommandStringConvertor and the Worker's Command.TryParse:
/// <c>##vso[area.event k=v;k=v]data</c>; in properties and data <c>;</c> <c>\r</c> <c>\n</c> <c>]</c> are escaped as
/// <c>%3B</c> <c>%0D</c> <c>%0A</c> <c>%5D</c>, and <c>%</c> as <c>%AZP25</c>, which the agent unescapes first), and
/// microsoft/azure-pipelines-task-lib (task.setprogress <c>value=N;</c>, task.logissue <c>type=error|warning;</c>).
/// GitHub Actions: actions/toolkit packages/core/src/command.ts and actions/runner ActionCommand.cs
/// (<c>::name k=v,k=v::data</c>; data escapes <c>%</c> <c>\r</c> <c>\n</c> as <c>%25</c> <c>%0D</c> <c>%0A</c>,
/// property values also <c>:</c> <c>,</c> as <c>%3A</c> <c>%2C</c>; <c>::group::title</c> / <c>::endgroup::</c>).
/// </remarks>
public sealed class PipelineLog
{
    /// <summary>Azure Pipelines shows one progress value per step; more than a couple a second is only noise in the log.</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);

    readonly Func<DateTimeOffset> clock;
    readonly object gate = new();
    DateTimeOffset lastProgressAt = DateTimeOffset.MinValue;
    int lastProgressValue = -1;

    // GitHub Actions groups do not nest: one is open at a time; what other activities report meanwhile waits in
    // order and is written as its own group once the open one ends.
    int? openGroup;
    readonly List<int> waitingOrder = new();
    readonly Dictionary<int, Activity> activities = new();
    readonly HashSet<int> closed = new();

    public PipelineLog(PipelineKind kind, Func<DateTimeOffset>? clock = null)
    {
        Kind = kind;
        this.clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    public PipelineKind Kind { get; }

    /// <summary>The CI system of this process, from <c>TF_BUILD</c> and <c>GITHUB_ACTIONS</c>.</summary>
    public static PipelineKind Detect(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (string.Equals(environment("TF_BUILD"), "True", StringComparison.OrdinalIgnoreCase))
        {
            return PipelineKind.AzurePipelines;
        }

        return string.Equals(environment("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase)
            ? PipelineKind.GitHubActions
            : PipelineKind.None;
    }

    /// <summary>The annotation for an error: its message, and on GitHub its ErrorId as the title.</summary>
    public IReadOnlyList<string> Error(string errorId, string message) => Kind switch
    {
        PipelineKind.AzurePipelines => new[] { $"##vso[task.logissue type=error;]{EscapeAzure(message)}" },
        PipelineKind.GitHubActions => new[] { $"::error title={EscapeGitHubProperty(errorId)}::{EscapeGitHubData(message)}" },
        _ => Array.Empty<string>(),
    };

    public IReadOnlyList<string> Warning(string message) => Kind switch
    {
        PipelineKind.AzurePipelines => new[] { $"##vso[task.logissue type=warning;]{EscapeAzure(message)}" },
        PipelineKind.GitHubActions => new[] { $"::warning::{EscapeGitHubData(message)}" },
        _ => Array.Empty<string>(),
    };

    /// <summary>The lines a progress record becomes: the step's progress on Azure, a group's lines on GitHub.</summary>
    public IReadOnlyList<string> Progress(ProgressRecord record)
    {
        lock (gate)
        {
            return Kind switch
            {
                PipelineKind.AzurePipelines => AzureProgress(record),
                PipelineKind.GitHubActions => GitHubProgress(record),
                _ => Array.Empty<string>(),
            };
        }
    }

    /// <summary>Closes what is still open and writes what still waits; for the end of a cmdlet.</summary>
    public IReadOnlyList<string> Flush()
    {
        lock (gate)
        {
            var lines = new List<string>();
            foreach (var id in activities.Keys.ToList())
            {
                activities[id].Finished = true;
            }

            Drain(lines);
            return lines;
        }
    }

    IReadOnlyList<string> AzureProgress(ProgressRecord record)
    {
        var value = record.RecordType == ProgressRecordType.Completed ? 100 : record.PercentComplete;
        if (value < 0)
        {
            return Array.Empty<string>();
        }

        var now = clock();
        // Completion is always told (the step's bar should not stop at 87%); otherwise a changed value, twice a second at most.
        if (value == lastProgressValue || (value != 100 && now - lastProgressAt < ProgressInterval))
        {
            return Array.Empty<string>();
        }

        lastProgressAt = now;
        lastProgressValue = value;
        return new[] { string.Create(CultureInfo.InvariantCulture, $"##vso[task.setprogress value={value};]{EscapeAzure(record.Activity)}") };
    }

    IReadOnlyList<string> GitHubProgress(ProgressRecord record)
    {
        var completed = record.RecordType == ProgressRecordType.Completed;
        if (completed && closed.Contains(record.ActivityId))
        {
            // A second word of the end of work whose group is closed already.
            return Array.Empty<string>();
        }

        if (!activities.TryGetValue(record.ActivityId, out var activity))
        {
            closed.Remove(record.ActivityId);
            activity = new Activity(record.Activity);
            activities[record.ActivityId] = activity;
            waitingOrder.Add(record.ActivityId);
        }

        // A line for each tenth of the work, and the last word; not every report (they come several a second).
        var tenth = record.PercentComplete >= 0 ? record.PercentComplete / 10 : -1;
        if (completed || tenth > activity.LastTenth || !activity.Told)
        {
            activity.Told = true;
            activity.LastTenth = Math.Max(activity.LastTenth, tenth);
            // A plain log line, not a command: one line, and never one the runner could take for a command.
            var text = (record.StatusDescription ?? "").ReplaceLineEndings(" ");
            activity.Lines.Add(text.StartsWith("::", StringComparison.Ordinal) ? " " + text : text);
        }

        activity.Finished |= completed;
        var lines = new List<string>();
        Drain(lines);
        return lines;
    }

    /// <summary>Writes the open group's new lines, closes it when its work finished, and opens the next waiting one.</summary>
    void Drain(List<string> lines)
    {
        while (true)
        {
            if (openGroup is null)
            {
                if (waitingOrder.Count == 0)
                {
                    return;
                }

                openGroup = waitingOrder[0];
                waitingOrder.RemoveAt(0);
                lines.Add($"::group::{EscapeGitHubData(activities[openGroup.Value].Title)}");
            }

            var activity = activities[openGroup.Value];
            lines.AddRange(activity.Lines);
            activity.Lines.Clear();
            if (!activity.Finished)
            {
                return;
            }

            lines.Add("::endgroup::");
            activities.Remove(openGroup.Value);
            closed.Add(openGroup.Value);
            openGroup = null;
        }
    }

    /// <summary>Escapes the data and property values of an Azure Pipelines logging command.</summary>
    public static string EscapeAzure(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            builder.Append(c switch
            {
                '%' => "%AZP25",
                ';' => "%3B",
                '\r' => "%0D",
                '\n' => "%0A",
                ']' => "%5D",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    /// <summary>Escapes the message of a GitHub Actions workflow command.</summary>
    public static string EscapeGitHubData(string value) =>
        value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    /// <summary>Escapes a property value of a GitHub Actions workflow command (e.g. an annotation's title).</summary>
    public static string EscapeGitHubProperty(string value) =>
        EscapeGitHubData(value).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);

    sealed class Activity
    {
        public Activity(string title) => Title = title;

        public string Title { get; }
        public List<string> Lines { get; } = new();
        public int LastTenth { get; set; } = -1;
        public bool Told { get; set; }
        public bool Finished { get; set; }
    }
}
