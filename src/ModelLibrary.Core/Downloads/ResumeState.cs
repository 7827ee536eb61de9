using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelLibrary.Downloads;

/// <summary>
/// What a partial file holds, saved beside it (<c>.partial.json</c>) about once a second and on pause, so a
/// download resumes from its bytes even when the registry row is stale or the process was killed. On resume
/// only what this file records is trusted: bytes written after the last save are fetched again.
/// </summary>
internal sealed class ResumeState
{
    public const int CurrentVersion = 1;

    public int Version { get; set; } = CurrentVersion;
    public string TaskId { get; set; } = "";
    public required DownloadRequest Request { get; set; }
    /// <summary>Null while the server has not told the size.</summary>
    public long? TotalSize { get; set; }
    public string? ETag { get; set; }
    public string? LastModified { get; set; }
    /// <summary>Single stream: the server ignores ranges or the size is unknown; never split again.</summary>
    public bool SingleStream { get; set; }
    public long PartSize { get; set; }
    /// <summary>Bytes done per part, from the part's start.</summary>
    public long[] PartsDone { get; set; } = Array.Empty<long>();

    [JsonIgnore]
    public long DownloadedBytes => PartsDone.Sum();

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The saved state, or null when there is none or it cannot be read (then the download starts over).</summary>
    public static ResumeState? Load(string path)
    {
        try
        {
            if (!File.Exists(path))
            {
                return null;
            }

            var state = JsonSerializer.Deserialize<ResumeState>(File.ReadAllBytes(path), Json);
            return state is { Version: CurrentVersion } ? state : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Writes to a temporary file and renames it over the old one, so a crash leaves old or new, never half.</summary>
    public void Save(string path)
    {
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
        {
            JsonSerializer.Serialize(stream, this, Json);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }
}
