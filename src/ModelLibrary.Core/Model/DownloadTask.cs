namespace ModelLibrary;

/// <summary>One download of one model file, as persisted in <c>download_tasks</c>.</summary>
public sealed class DownloadTask
{
    public string TaskId { get; set; } = "";
    public string ModelId { get; set; } = "";
    public string Url { get; set; } = "";
    public string FileName { get; set; } = "";
    /// <summary>Total bytes; 0 until the size is known.</summary>
    public long TotalSize { get; set; }
    public long DownloadedSize { get; set; }
    /// <summary>0..1.</summary>
    public double Progress { get; set; }
    public DownloadStatus Status { get; set; } = DownloadStatus.Pending;
    public string? ErrorMessage { get; set; }
    /// <summary>The ErrorId of the failure, when <see cref="Status"/> is Failed.</summary>
    public string? ErrorId { get; set; }
    public DateTimeOffset? StartTime { get; set; }
    public DateTimeOffset? EndTime { get; set; }
    /// <summary>Seconds, when a rate is known.</summary>
    public double? EstimatedTimeRemaining { get; set; }
    public double? BytesPerSecond { get; set; }
    /// <summary>Where the finished file lives (provider folder), or the partial while downloading.</summary>
    public string? LocalPath { get; set; }
    public string? Checksum { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    /// <summary>Retries of failed requests in this run (each also reported to -Verbose).</summary>
    public int Retries { get; set; }
    /// <summary>The last retry: what failed and how long the engine waited before trying again.</summary>
    public string? LastRetry { get; set; }

    public bool IsFinished => Status is DownloadStatus.Completed or DownloadStatus.Failed or DownloadStatus.Cancelled;

    public override string ToString() => $"{TaskId} ({ModelId}: {Status})";

    public DownloadTask Clone() => (DownloadTask)MemberwiseClone();
}
