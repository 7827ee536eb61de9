using System.IO.Compression;
using ModelLibrary.Formats;

namespace ModelLibrary.Files;

/// <summary>
/// Unpacks a tar archive (plain or gzip-compressed) into an empty folder, refusing anything that could leave it.
/// The members are listed as Python's tarfile lists them (<see cref="TarLayout"/>), and every member is checked before
/// the first byte is written: names relative and inside (no <c>..</c>, no absolute path, no empty segment), only
/// regular files and directories (a hard or symbolic link is written as a copy of the earlier member it names, and
/// refused when it names anything else: outside the folder, a later member, a missing one), no devices or FIFOs,
/// no name twice, every member's data inside the archive, the total bounded. What it writes is regular files only.
/// </summary>
internal static class ArchiveUnpacker
{
    /// <summary>An uncompressed tar archive.</summary>
    public const string Tar = "tar";

    /// <summary>A tar archive compressed with gzip (RFC 1952).</summary>
    public const string TarGzip = "tar+gzip";

    /// <summary>Most members one archive may hold (each becomes a file or folder).</summary>
    public const int MaxMembers = 10_000;

    /// <summary>
    /// How much larger than its compressed size a gzip layer may unpack: weights hardly compress, and text
    /// (configs, tokenizers) rarely beyond 10x; a gzip bomb (up to 1032x) is stopped before it fills the disk.
    /// </summary>
    public const int MaxGzipExpansion = 64;

    /// <summary>Bytes a gzip layer may always unpack to, whatever its compressed size (small text layers).</summary>
    public const long GzipAllowance = 64L * 1024 * 1024;

    public static bool IsSupported(string? kind) => kind is Tar or TarGzip;

    /// <summary>
    /// Unpacks <paramref name="archive"/> into <paramref name="destination"/> (created; it must not exist yet) and
    /// returns the relative paths (forward slashes) of the files written. Nothing is written unless every member passes.
    /// </summary>
    /// <exception cref="ModelSecurityException">UnsafeModelContent: a member that leaves the folder, a link out, a device.</exception>
    /// <exception cref="ValidationException">InvalidModelFile: not a tar archive, a truncated one, too large, a member twice.</exception>
    public static async Task<IReadOnlyList<string>> UnpackAsync(string archive, string kind, string destination, string modelId, string layerName, CancellationToken cancellationToken)
    {
        if (!IsSupported(kind))
        {
            throw Invalid(modelId, layerName, $"'{kind}' archives are not read");
        }

        string? decompressed = null;
        try
        {
            var tarPath = archive;
            if (kind == TarGzip)
            {
                decompressed = destination + ".tar";
                await DecompressAsync(archive, decompressed, modelId, layerName, cancellationToken).ConfigureAwait(false);
                tarPath = decompressed;
            }

            await using var stream = new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            var plan = Plan(stream, destination, modelId, layerName, cancellationToken);
            Directory.CreateDirectory(destination);
            var written = new List<string>();
            var buffer = new byte[81920];
            foreach (var entry in plan)
            {
                var target = Path.GetFullPath(Path.Combine(destination, entry.Name.Replace('/', Path.DirectorySeparatorChar)));
                if (!PathContainment.IsInsideAsWritten(target, destination))
                {
                    throw Unsafe(modelId, layerName, entry.Name, "it leaves the model's folder");
                }

                try
                {
                    if (entry.IsDirectory)
                    {
                        Directory.CreateDirectory(target);
                        continue;
                    }

                    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                    await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
                    stream.Position = entry.DataOffset;
                    for (var left = entry.Size; left > 0;)
                    {
                        var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            throw Invalid(modelId, layerName, $"the member '{entry.Name}' ends before its {entry.Size} bytes");
                        }

                        await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        left -= read;
                    }
                }
                catch (IOException e) when (e is not FileNotFoundException && !DiskErrors.IsDiskFull(e))
                {
                    // A member whose folder is a file of the archive (or the reverse): nothing sensible to unpack.
                    throw Invalid(modelId, layerName, $"the member '{entry.Name}' cannot be written ({e.Message})");
                }

                written.Add(entry.Name);
            }

            return written;
        }
        finally
        {
            if (decompressed is not null)
            {
                File.Delete(decompressed);
            }
        }
    }

    sealed record Entry(string Name, bool IsDirectory, long DataOffset, long Size);

    /// <summary>Every member checked, links turned into copies of what they name; throws before anything is written.</summary>
    static List<Entry> Plan(Stream stream, string destination, string modelId, string layerName, CancellationToken cancellationToken)
    {
        TarLayout layout;
        try
        {
            layout = TarLayout.Read(stream, cancellationToken);
        }
        catch (MalformedFileException e)
        {
            throw Invalid(modelId, layerName, e.Message);
        }

        if (layout.FallsBackToRaw)
        {
            throw Invalid(modelId, layerName, "it is not a complete tar archive");
        }

        if (layout.Ambiguity is { } ambiguity)
        {
            throw Invalid(modelId, layerName, $"it holds {ambiguity}, which tar readers unpack differently");
        }

        if (layout.Members.Count > MaxMembers)
        {
            throw Invalid(modelId, layerName, $"it has {layout.Members.Count} members, more than the {MaxMembers} unpacked");
        }

        var length = stream.Length;
        var entries = new List<Entry>();
        var files = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var directories = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var member in layout.Members)
        {
            var name = Normalize(member.Name);
            if (name.Length == 0 && member.Type == '5')
            {
                continue; // "./": the folder itself
            }

            CheckName(name, member.Name, modelId, layerName);
            if (files.ContainsKey(name) || directories.Contains(name))
            {
                throw Invalid(modelId, layerName, $"the member '{name}' appears twice");
            }

            Entry entry;
            switch (member.Type)
            {
                case '0' or '\0' or '7':
                    if (member.Size < 0 || member.DataOffset + member.Size > length)
                    {
                        throw Invalid(modelId, layerName, $"the member '{name}' claims {member.Size} bytes, past the archive's end");
                    }

                    entry = new Entry(name, false, member.DataOffset, member.Size);
                    break;
                case '5':
                    directories.Add(name);
                    entries.Add(new Entry(name, true, 0, 0));
                    continue;
                case '1' or '2':
                {
                    // A hard link names a member from the archive's root, a symbolic link from its own folder.
                    var link = member.LinkName;
                    if (link.StartsWith('/') || link.Contains('\\') || (link.Length > 1 && link[1] == ':'))
                    {
                        throw Unsafe(modelId, layerName, member.Name, $"it is a link to the absolute path '{link}'");
                    }

                    var resolved = member.Type == '1' ? Normalize(link) : Resolve(name, link);
                    if (resolved is null)
                    {
                        throw Unsafe(modelId, layerName, member.Name, $"it is a link to '{link}', outside the model's folder");
                    }

                    if (!files.TryGetValue(resolved, out var target))
                    {
                        throw Unsafe(modelId, layerName, member.Name, $"it is a link to '{link}', which is no file unpacked before it");
                    }

                    entry = target with { Name = name };
                    break;
                }

                case '3' or '4' or '6':
                    throw Unsafe(modelId, layerName, member.Name, "it is a device or FIFO");
                default:
                    throw Invalid(modelId, layerName, $"the member '{name}' has the tar type '{member.Type}', which is not unpacked");
            }

            total += entry.Size;
            files[name] = entry;
            entries.Add(entry);
        }

        // Room for what the archive holds, checked before the first byte is written.
        var parent = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        if (Volumes.AvailableFreeSpace(parent) is { } free && free < total)
        {
            throw Errors.InsufficientDiskSpace(modelId, total, free, parent);
        }

        return entries;
    }

    static void CheckName(string name, string original, string modelId, string layerName)
    {
        try
        {
            ModelReference.CheckRelativePath(name, modelId);
        }
        catch (ModelSecurityException)
        {
            throw Unsafe(modelId, layerName, original, "its name is absolute, has '..' or an empty segment");
        }
    }

    /// <summary>tar names often start with "./"; a directory's may end with "/".</summary>
    static string Normalize(string name)
    {
        while (name.StartsWith("./", StringComparison.Ordinal))
        {
            name = name[2..];
        }

        return name == "." ? "" : name.TrimEnd('/');
    }

    /// <summary>A symbolic link's target from the link's folder, or null when it climbs out of the model's folder.</summary>
    static string? Resolve(string linkName, string target)
    {
        var segments = new List<string>(linkName.Split('/')[..^1]);
        foreach (var segment in target.Split('/'))
        {
            if (segment is "" or ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count == 0)
                {
                    return null;
                }

                segments.RemoveAt(segments.Count - 1);
                continue;
            }

            segments.Add(segment);
        }

        return segments.Count == 0 ? null : string.Join('/', segments);
    }

    static async Task DecompressAsync(string archive, string output, string modelId, string layerName, CancellationToken cancellationToken)
    {
        var limit = new FileInfo(archive).Length * MaxGzipExpansion + GzipAllowance;
        if (Volumes.AvailableFreeSpace(Path.GetDirectoryName(output)!) is { } free && free < limit)
        {
            limit = free;
        }

        await using var input = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using var gzip = new GZipStream(input, CompressionMode.Decompress);
        await using var target = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        var buffer = new byte[81920];
        long written = 0;
        try
        {
            int read;
            while ((read = await gzip.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                written += read;
                if (written > limit)
                {
                    throw Invalid(modelId, layerName, $"it unpacks to more than {limit} bytes ({MaxGzipExpansion} times its size, or the free space left)");
                }

                await target.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (InvalidDataException e)
        {
            throw Invalid(modelId, layerName, $"its gzip data is damaged ({e.Message})");
        }
    }

    static ValidationException Invalid(string modelId, string layerName, string why) => Errors.InvalidModelFile(
        $"The archive '{layerName}' of '{modelId}' cannot be unpacked: {why}. Nothing of it was placed.", modelId,
        new Dictionary<string, object?> { ["model_id"] = modelId, ["layer"] = layerName, ["reason"] = why },
        "If the model was packed by hand, pack it again with a tar that writes plain files under relative names.");

    static ModelSecurityException Unsafe(string modelId, string layerName, string member, string why) => Errors.UnsafeModelContent(
        $"The archive '{layerName}' of '{modelId}' has the member '{member}', which is refused: {why}. Nothing of it was placed.", modelId,
        new Dictionary<string, object?> { ["model_id"] = modelId, ["layer"] = layerName, ["member"] = member, ["reason"] = why },
        "Do not use this artifact; ask its publisher for one whose archive holds plain files under relative names.");
}
