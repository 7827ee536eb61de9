using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace ModelLibrary.Library;

/// <summary>
/// What model files' headers say, as JSON files under <c>metadata/</c>: one per file, named by a hash of its full path,
/// holding the size and last-write time of every file of the model (all split parts or shards) when it was read. An
/// entry whose files changed since is stale and ignored; one whose files are gone is deleted when it is looked up, and
/// the library drops a model's entry when it removes the model or replaces its file. The cache only saves time: a
/// missing, stale, corrupt or unwritable entry means the header is read again, never an error.
/// </summary>
public sealed class MetadataCache
{
    /// <summary>Bumped when <see cref="ModelFileMetadata"/> or the readers change what they report, so old entries are re-read.</summary>
    public const int EntryVersion = 3;

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public MetadataCache(string directory) => Directory = directory;

    public string Directory { get; }

    /// <summary>The cache file for a model file (which need not exist).</summary>
    public string EntryPath(string path)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(path)));
        return Path.Combine(Directory, Convert.ToHexString(hash)[..32].ToLowerInvariant() + ".json");
    }

    /// <summary>The cached metadata of the file, or null when there is none or it no longer matches the files on disk.</summary>
    public ModelFileMetadata? TryRead(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            var entryPath = EntryPath(full);
            if (!File.Exists(entryPath))
            {
                return null;
            }

            if (!File.Exists(full))
            {
                // Nothing is left to describe; the entry would only take space until a file of that name came back.
                Delete(entryPath);
                return null;
            }

            var entry = JsonSerializer.Deserialize<Entry>(File.ReadAllText(entryPath), Json);
            if (entry is null || entry.Version != EntryVersion || entry.Metadata is null
                || !string.Equals(entry.Path, full, StringComparison.Ordinal) || entry.Files.Length == 0)
            {
                return null;
            }

            if (entry.Files.Any(f => !File.Exists(f.Path)))
            {
                // A split part or shard is gone: the model as cached no longer exists (a part missing when the entry
                // was written would otherwise match its "missing" stamp for ever).
                Delete(entryPath);
                return null;
            }

            if (entry.Files.Any(f => !Stamp.Of(f.Path).Equals(f)))
            {
                return null;
            }

            entry.Metadata.FromCache = true;
            return entry.Metadata;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Drops the entry of a model file (which need not exist any more); a failure to delete it is ignored.</summary>
    public void Remove(string path) => Delete(EntryPath(path));

    static void Delete(string entryPath)
    {
        try
        {
            File.Delete(entryPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: an entry left behind is ignored once its file is gone or changed.
        }
    }

    /// <summary>
    /// Stores the metadata read from <paramref name="path"/> and the stamps of <paramref name="files"/>; returns why it
    /// could not, or null on success. Written to a temporary file and renamed, so readers never see half an entry.
    /// </summary>
    public string? TryWrite(string path, IEnumerable<string> files, ModelFileMetadata metadata)
    {
        var full = Path.GetFullPath(path);
        string? temporary = null;
        try
        {
            var entry = new Entry
            {
                Version = EntryVersion,
                Path = full,
                Files = files.Append(full).Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).Select(Stamp.Of).ToArray(),
                Metadata = metadata,
            };
            Configuration.PrivateFiles.CreateDirectory(Directory);
            var entryPath = EntryPath(full);
            temporary = entryPath + "." + Guid.NewGuid().ToString("n")[..8] + ".tmp";
            File.WriteAllText(temporary, JsonSerializer.Serialize(entry, Json));
            File.Move(temporary, entryPath, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or JsonException)
        {
            try
            {
                if (temporary is not null && File.Exists(temporary)) File.Delete(temporary);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Best effort; a stray .tmp file in the cache folder harms nothing.
            }

            return $"The metadata cache entry for '{full}' could not be written to '{Directory}': {e.Message}";
        }
    }

    sealed class Entry
    {
        public int Version { get; set; }
        public string Path { get; set; } = "";
        public Stamp[] Files { get; set; } = Array.Empty<Stamp>();
        public ModelFileMetadata? Metadata { get; set; }
    }

    /// <summary>A file's identity for the cache: its full path, size and last-write time.</summary>
    sealed record Stamp(string Path, long Size, long LastWriteTicksUtc)
    {
        public static Stamp Of(string path)
        {
            // The link's own size and time say nothing of the file it leads to (the Hub cache is all links).
            var info = new FileInfo(path);
            var target = FileKinds.Target(path);
            return target is not null ? new Stamp(info.FullName, target.Length, target.LastWriteTimeUtc.Ticks) : new Stamp(path, -1, 0);
        }
    }
}
