using System.Security.Cryptography;
using ModelLibrary.Files;

namespace ModelLibrary.Downloads;

/// <summary>
/// Models of several files (a transformers repository, a split GGUF set, a model with its mmproj): one task, one
/// progress over the total, the files fetched one after the other with the same ranged, resumable transfer as a
/// single file, each verified as it completes, then the whole folder moved into place at once.
/// </summary>
/// <remarks>
/// Staging: <c>downloads/&lt;key&gt;.partial.d/</c> holds every verified file at its relative path, and
/// <c>.parts/&lt;n&gt;.partial</c> (+ <c>.json</c> resume state) for the file in flight. A file reaches its relative
/// path only by a rename after its hash matched, so on resume a file that is there is done, and a partial resumes
/// where its state says. The model folder appears complete or not at all: a rename of the staging folder on the same
/// volume, else a copy to a hidden sibling renamed at the end.
/// </remarks>
internal sealed partial class DownloadRun
{
    const string PartsFolder = ".parts";

    async Task<LocalModelFile> ExecuteFolderAsync(CancellationToken cancellationToken)
    {
        var files = request.Files!;
        var folder = paths.FolderStaging;
        Directory.CreateDirectory(folder);
        grandTotal = files.All(f => f.Size is not null) ? files.Sum(f => f.Size!.Value) : null;
        var targets = files.Select(f => StagedPath(folder, f.RelativePath)).ToList();
        Preflight.CheckDiskSpace(request.ModelId, paths, grandTotal ?? request.DeclaredSize ?? 0, targets.Where(File.Exists).Sum(t => new FileInfo(t).Length), options);

        bytesBefore = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            var target = targets[i];
            var unpacked = Path.Combine(folder, PartsFolder, i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".unpacked");
            if (file.Unpack is not null && File.Exists(unpacked))
            {
                bytesBefore += file.Size ?? 0; // unpacked in an earlier run
                continue;
            }

            if (file.Unpack is null && File.Exists(target) && (file.Size is null || new FileInfo(target).Length == file.Size))
            {
                // Renamed here only after its hash matched: done in an earlier run.
                bytesBefore += new FileInfo(target).Length;
                continue;
            }

            current = request with
            {
                Url = file.Url,
                FileName = file.RelativePath,
                DeclaredSize = file.Size,
                Checksum = file.Checksum,
                Files = null,
            };
            partialPath = Path.Combine(folder, PartsFolder, i.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".partial");
            statePath = partialPath + ".json";
            Directory.CreateDirectory(Path.GetDirectoryName(partialPath)!);
            var (digest, length) = await FetchFileAsync(lastFile: i == files.Count - 1, cancellationToken);
            VerifyFile(file, digest, length);
            if (file.Unpack is not null)
            {
                await UnpackAsync(file, i, folder, cancellationToken);
                File.WriteAllBytes(unpacked, Array.Empty<byte>());
                DeleteFilePartial();
                bytesBefore += length;
                continue;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Move(partialPath, target, overwrite: true);
            File.Delete(statePath);
            bytesBefore += length;
        }

        return await FinishFolderAsync(folder, cancellationToken);
    }

    /// <summary>A file's place in the staging folder; a relative path that would leave it is refused (nothing written).</summary>
    string StagedPath(string folder, string relativePath)
    {
        ModelReference.CheckRelativePath(relativePath, request.ModelId);
        var full = Path.GetFullPath(Path.Combine(folder, relativePath));
        if (!PathContainment.IsInsideAsWritten(full, folder) || relativePath.Split('/')[0] == PartsFolder)
        {
            throw Errors.PathOutsideRoot(relativePath, folder);
        }

        return full;
    }

    /// <summary>
    /// An archive, verified by its digest, unpacked (<see cref="ArchiveUnpacker"/>) into a scratch folder and its files
    /// moved to their places in the staging folder: refused whole, with the staging folder deleted, when any member
    /// would leave the folder or collide with a file of another layer.
    /// </summary>
    async Task UnpackAsync(DownloadFile file, int index, string folder, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(folder, PartsFolder, index.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".d");
        if (Directory.Exists(scratch))
        {
            Directory.Delete(scratch, recursive: true);
        }

        try
        {
            var placed = request.Files!.Where(f => f.Unpack is null).Select(f => f.RelativePath).ToHashSet(StringComparer.Ordinal);
            var written = await ArchiveUnpacker.UnpackAsync(partialPath, file.Unpack!, scratch, request.ModelId, file.RelativePath, cancellationToken);
            var targets = written.Select(relative => placed.Contains(relative)
                ? throw Errors.InvalidModelFile($"The archive '{file.RelativePath}' of '{request.ModelId}' holds '{relative}', which another of its files is too. Nothing of it was placed.", request.ModelId,
                    new Dictionary<string, object?> { ["model_id"] = request.ModelId, ["layer"] = file.RelativePath, ["member"] = relative })
                : (From: Path.Combine(scratch, relative), To: StagedPath(folder, relative))).ToList();
            foreach (var (from, to) in targets)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Move(from, to, overwrite: true);
            }

            Directory.Delete(scratch, recursive: true);
        }
        catch (ModelLibraryException)
        {
            paths.Staging.DeletePartial();
            throw;
        }
    }

    /// <summary>
    /// SHA-256 when the source stated it (LFS); else the git blob SHA-1 of a small file kept in git. An archive is
    /// verified even when validation is off: its members are placed on the strength of its digest.
    /// </summary>
    void VerifyFile(DownloadFile file, byte[] digest, long length)
    {
        if (!validate && file.Unpack is null)
        {
            return;
        }

        var actual = Sha256Checksum.Format(digest);
        if (Sha256Checksum.Hex(file.Checksum) is { } expected && !string.Equals(expected, actual[7..], StringComparison.OrdinalIgnoreCase))
        {
            throw Mismatch(file, "sha256:" + expected, actual, length);
        }

        if (file.Checksum is null && file.GitBlobSha1 is { } blob)
        {
            var computed = GitBlobSha1(partialPath, length);
            if (!string.Equals(blob, computed, StringComparison.OrdinalIgnoreCase))
            {
                throw Mismatch(file, "git-blob-sha1:" + blob.ToLowerInvariant(), "git-blob-sha1:" + computed, length);
            }
        }
    }

    ValidationException Mismatch(DownloadFile file, string expected, string actual, long length)
    {
        File.Delete(partialPath);
        File.Delete(statePath);
        return new ValidationException(ErrorIds.ChecksumMismatch,
            $"The file '{file.RelativePath}' of '{request.ModelId}' does not match its checksum: expected {expected}, got {actual}. The file was deleted.",
            request.ModelId,
            new Dictionary<string, object?> { ["model_id"] = request.ModelId, ["file"] = file.RelativePath, ["expected"] = expected, ["actual"] = actual, ["size"] = length },
            new[] { "Download the model again (Start-ModelDownload); files already verified are kept.", "If it fails again, the source serves a different file than it lists; report it to the source." });
    }

    /// <summary>Git's object id of a blob: SHA-1 over <c>blob &lt;length&gt;\0</c> and the bytes (as the Hub's tree lists small files).</summary>
    internal static string GitBlobSha1(string path, long length)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(System.Text.Encoding.ASCII.GetBytes($"blob {length}\0"));
        using var stream = File.OpenRead(path);
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer)) > 0)
        {
            sha1.AppendData(buffer, 0, read);
        }

        return Convert.ToHexString(sha1.GetHashAndReset()).ToLowerInvariant();
    }

    /// <summary>Validation of the whole folder (format and security as for one file), then the folder moves into place.</summary>
    async Task<LocalModelFile> FinishFolderAsync(string folder, CancellationToken cancellationToken)
    {
        var parts = Path.Combine(folder, PartsFolder);
        if (Directory.Exists(parts))
        {
            Directory.Delete(parts, recursive: true);
        }

        await lifecycle.ToVerifyingAsync(active, bytesBefore);

        var entry = request.FileName.Length > 0 ? StagedPath(folder, request.FileName) : folder;
        if (options.Validator is { } validator)
        {
            // Sizes and checksums were verified file by file; the folder's own check is format and safety.
            var model = active.Model.Clone();
            model.Size = null;
            model.Checksum = null;
            try
            {
                await validator.ValidateAsync(entry, model, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                paths.Staging.DeletePartial();
                if (e is ModelLibraryException)
                {
                    throw;
                }

                throw Errors.InvalidModelFile(paths.ModelDirectory, e.Message, e);
            }
        }

        string? entryChecksum = null;
        if (request.FileName.Length > 0 && request.Files!.FirstOrDefault(f => f.RelativePath == request.FileName && f.Unpack is null) is { Checksum: { } known })
        {
            entryChecksum = known;
        }
        else if (request.FileName.Length > 0 && request.Files!.Any(f => f.Unpack is not null) && File.Exists(entry))
        {
            // A file out of an archive: the archive's digest is not the file's, so record the file's own.
            entryChecksum = await Sha256Checksum.OfFileAsync(entry, cancellationToken);
        }

        // From here on the files are good: finish even if asked to stop, so they never sit verified but unregistered.
        await FileMover.MoveFolderIntoPlaceAsync(folder, paths.ModelDirectory, CancellationToken.None);
        File.Delete(paths.State);
        var localPath = request.FileName.Length > 0 ? Path.Combine(paths.ModelDirectory, request.FileName.Replace('/', Path.DirectorySeparatorChar)) : paths.ModelDirectory;
        return new LocalModelFile(localPath, bytesBefore, entryChecksum, DateTimeOffset.UtcNow);
    }

    void DeleteFilePartial()
    {
        File.Delete(partialPath);
        File.Delete(statePath);
        File.Delete(statePath + ".tmp");
    }
}
