using System.Globalization;
using System.Management.Automation;

namespace ModelLibrary.PowerShell.Downloads;

/// <summary>How a download's progress reads in Write-Progress: percent, bytes, speed and time left.</summary>
internal static class DownloadProgress
{
    /// <summary>Each download gets its own progress bar; the id derives from the task so updates replace, not stack.</summary>
    public static int ActivityId(string taskId) => 1 + (int)((uint)StringComparer.Ordinal.GetHashCode(taskId) % 100000);

    public static ProgressRecord Record(DownloadTask task)
    {
        var record = new ProgressRecord(ActivityId(task.TaskId), $"Downloading {task.ModelId}", Status(task))
        {
            PercentComplete = task.TotalSize > 0 ? (int)Math.Clamp(task.Progress * 100, 0, 100) : -1,
            SecondsRemaining = task.EstimatedTimeRemaining is { } eta ? (int)Math.Min(eta, int.MaxValue) : -1,
        };
        if (task.IsFinished)
        {
            record.RecordType = ProgressRecordType.Completed;
        }

        return record;
    }

    /// <summary>Ends the bar of a task whose wait failed with an error.</summary>
    public static ProgressRecord Failed(string taskId) => new(ActivityId(taskId), "Downloading", "Failed")
    {
        RecordType = ProgressRecordType.Completed,
    };

    static string Status(DownloadTask task)
    {
        var size = task.TotalSize > 0
            ? $"{ByteSize.Format(task.DownloadedSize)} of {ByteSize.Format(task.TotalSize)}"
            : ByteSize.Format(task.DownloadedSize);
        var rate = task.BytesPerSecond is > 0 ? $" at {ByteSize.Rate(task.BytesPerSecond)}" : "";
        return string.Create(CultureInfo.InvariantCulture, $"{task.Status}: {size}{rate}");
    }
}
