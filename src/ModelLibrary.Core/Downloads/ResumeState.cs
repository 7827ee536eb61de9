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
    /// <summary>2: parts as start, length and done (they are split while downloading). 1 (fixed part size) is still read.</summary>
    public const int CurrentVersion = 2;

    public int Version { get; set; } = CurrentVersion;
    public string TaskId { get; set; } = "";
    public required DownloadRequest Request { get; set; }
    /// <summary>Null while the server has not told the size.</summary>
    public long? TotalSize { get; set; }
    public string? ETag { get; set; }
    public string? LastModified { get; set; }
    /// <summary>Single stream: the server ignores ranges or the size is unknown; never split again.</summary>
    public bool SingleStream { get; set; }
    /// <summary>The file's parts in file order: where each starts, how long it is (null: unknown size), bytes done.</summary>
    public List<SavedPart> Parts { get; set; } = new();

    /// <summary>Version 1 only: every part this long (the last shorter), done bytes per part.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long PartSize { get; set; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public long[]? PartsDone { get; set; }

    [JsonIgnore]
    public long DownloadedBytes => Parts.Sum(p => p.Done);

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
            return state switch
            {
                { Version: CurrentVersion } => state,
                { Version: 1 } => FromVersion1(state),
                _ => null,
            };
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Fixed-size parts become explicit ranges; the bytes on disk stay good.</summary>
    static ResumeState FromVersion1(ResumeState state)
    {
        var done = state.PartsDone ?? Array.Empty<long>();
        state.Parts = done.Select((d, i) => state.SingleStream
            ? new SavedPart(0, state.TotalSize, d)
            : new SavedPart(i * state.PartSize, Math.Min(state.PartSize, state.TotalSize!.Value - i * state.PartSize), d)).ToList();
        state.PartsDone = null;
        state.PartSize = 0;
        state.Version = CurrentVersion;
        return state;
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

/// <summary>One part as saved: its start, its length (null while the size is unknown) and the bytes done from its start.</summary>
internal sealed record SavedPart(long Start, long? Length, long Done);
