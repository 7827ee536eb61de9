namespace ModelLibrary.Downloads;

/// <summary>
/// How another process asks the owner of a download to pause or cancel it: a small file beside the partial
/// (<c>&lt;key&gt;.request</c>). The owner looks for it every <see cref="DownloadOptions.PersistInterval"/> (about once a
/// second) through <see cref="ActiveDownload.TakeStopRequest"/>: the progress ticker while bytes flow, and the slot
/// wait while the task is still Pending. It takes the file and honours it. The asker
/// (<see cref="CrossProcessControl.AskOwnerAsync"/>) follows the task in the store until its status shows the answer,
/// and settles the task itself when the owner died meanwhile.
/// </summary>
/// <remarks>
/// A file rather than a registry column: the owner already touches <c>downloads/</c> every second, the request needs no
/// schema change, and a request left behind by an asker that died is simply taken by the next run.
/// </remarks>
internal static class StopRequest
{
    public static void Write(string path, StopReason reason)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, reason.ToString());
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The request waiting at <paramref name="path"/>, removed as it is read; null when there is none.</summary>
    public static StopReason? TryTake(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            var text = File.ReadAllText(path).Trim();
            File.Delete(path);
            return Enum.TryParse<StopReason>(text, out var reason) && reason is StopReason.Pause or StopReason.Cancel ? reason : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Being written this very moment: the next tick reads it.
            return null;
        }
    }
}
