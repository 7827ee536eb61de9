namespace ModelLibrary.Downloads;

/// <summary>
/// The one place a download task's status changes. Each method sets the status and every field that goes with it,
/// the same way from whichever path it is called (a run here, a stop asked by another process, a task whose process
/// died), so a task never keeps a field its new status contradicts.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Pending, Downloading, Paused</term><description>no end time, no error; <c>LocalPath</c> is the partial; rate and
/// time left only while Downloading (the progress ticker sets them).</description></item>
/// <item><term>Verifying</term><description>every byte is there: size, downloaded and progress full, nothing left to wait for.</description></item>
/// <item><term>Completed</term><description>end time; <c>LocalPath</c> the file in its provider folder.</description></item>
/// <item><term>Failed</term><description>end time, ErrorId and ErrorMessage; <c>LocalPath</c> the partial (Resume continues from it).</description></item>
/// <item><term>Cancelled</term><description>end time; the partial is deleted, so no progress and no <c>LocalPath</c>.</description></item>
/// </list>
/// </remarks>
internal static class TaskTransitions
{
    /// <summary>A new or continued task waiting for a slot: what to download, where the partial lies.</summary>
    public static void ToPending(DownloadTask task, DownloadRequest request, string partialPath)
    {
        // Never a password: the row is shown by Get-ModelDownload and kept in registry.db.
        task.Url = Net.SafeUrl.Masked(request.Url);
        task.FileName = request.FileName;
        Unfinished(task, DownloadStatus.Pending, partialPath);
    }

    /// <summary>It has a slot and bytes flow; the start time is that of the first run.</summary>
    public static void ToDownloading(DownloadTask task, string partialPath)
    {
        Unfinished(task, DownloadStatus.Downloading, partialPath);
        task.StartTime ??= DateTimeOffset.UtcNow;
    }

    /// <summary>Stopped with its bytes kept (Suspend, Ctrl+C, a session that closed, a process that died).</summary>
    public static void ToPaused(DownloadTask task, string partialPath) => Unfinished(task, DownloadStatus.Paused, partialPath);

    /// <summary>All <paramref name="length"/> bytes are there; the hash and the checks run.</summary>
    public static void ToVerifying(DownloadTask task, long length, string partialPath)
    {
        Unfinished(task, DownloadStatus.Verifying, partialPath);
        task.TotalSize = length;
        task.DownloadedSize = length;
        task.Progress = 1;
        task.EstimatedTimeRemaining = 0;
    }

    /// <summary>The verified file is in its provider folder at <paramref name="localPath"/>.</summary>
    public static void ToCompleted(DownloadTask task, string localPath, string? checksum)
    {
        Finished(task, DownloadStatus.Completed);
        if (task.TotalSize <= 0)
        {
            task.TotalSize = task.DownloadedSize;
        }

        task.DownloadedSize = task.TotalSize;
        task.Progress = 1;
        task.EstimatedTimeRemaining = 0;
        task.LocalPath = localPath;
        task.Checksum = checksum ?? task.Checksum;
    }

    /// <summary>It failed for good (retries exhausted, a check refused the file); Resume continues from the partial.</summary>
    public static void ToFailed(DownloadTask task, string errorId, string message, string partialPath)
    {
        Finished(task, DownloadStatus.Failed);
        task.ErrorId = errorId;
        task.ErrorMessage = Net.SafeUrl.MaskText(message);
        task.LocalPath = partialPath;
    }

    /// <summary>Stopped and its partial deleted: nothing of it is left on disk.</summary>
    public static void ToCancelled(DownloadTask task)
    {
        Finished(task, DownloadStatus.Cancelled);
        task.DownloadedSize = 0;
        task.Progress = 0;
        task.LocalPath = null;
    }

    static void Unfinished(DownloadTask task, DownloadStatus status, string partialPath)
    {
        task.Status = status;
        task.ErrorId = null;
        task.ErrorMessage = null;
        task.EndTime = null;
        task.BytesPerSecond = null;
        task.EstimatedTimeRemaining = null;
        task.LocalPath = partialPath;
        task.UpdatedAt = DateTimeOffset.UtcNow;
    }

    static void Finished(DownloadTask task, DownloadStatus status)
    {
        task.Status = status;
        task.ErrorId = null;
        task.ErrorMessage = null;
        task.EndTime = DateTimeOffset.UtcNow;
        task.BytesPerSecond = null;
        task.EstimatedTimeRemaining = null;
        task.UpdatedAt = task.EndTime;
    }
}
