namespace ModelLibrary;

/// <summary>Where a model stands in this library.</summary>
public enum ModelStatus
{
    Available,
    Downloading,
    Local,
    Error,
}

/// <summary>Where a download task stands.</summary>
public enum DownloadStatus
{
    Pending,
    Downloading,
    Paused,
    Verifying,
    Completed,
    Failed,
    Cancelled,
}
