namespace ModelLibrary.Files;

/// <summary>
/// Real containment of paths: symbolic links are resolved on both sides and paths are compared by segments,
/// so <c>/lib/models-evil</c> is not inside <c>/lib/models</c> and a link that points out of the root is caught.
/// </summary>
public static class PathContainment
{
    /// <summary>True when <paramref name="path"/> (after resolving links) lies strictly inside <paramref name="root"/>.</summary>
    public static bool IsInside(string path, string root) => IsInsideAsWritten(RealPath(path), RealPath(root));

    /// <summary>
    /// True when the path as written (made absolute, <c>..</c> normalised, links NOT resolved) lies inside the root.
    /// Tells a path the user placed outside the library apart from a link inside it that leads out.
    /// </summary>
    public static bool IsInsideAsWritten(string path, string root)
    {
        var relative = Path.GetRelativePath(Path.GetFullPath(root), Path.GetFullPath(path));
        return relative != "." && !Path.IsPathRooted(relative) &&
               relative != ".." && !relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) &&
               !relative.StartsWith("../", StringComparison.Ordinal);
    }

    /// <summary>True when the path is inside any of the roots.</summary>
    public static bool IsInsideAny(string path, IEnumerable<string> roots) => roots.Any(r => IsInside(path, r));

    /// <summary>Throws <see cref="ModelSecurityException"/> (UnsafeModelContent) unless the path is inside one of the roots.</summary>
    public static string EnsureInside(string path, IReadOnlyList<string> roots)
    {
        if (!IsInsideAny(path, roots))
        {
            throw Errors.PathOutsideRoot(path, roots);
        }

        return Path.GetFullPath(path);
    }

    /// <summary>
    /// Like <see cref="EnsureInside"/>, for a path about to be deleted: a symbolic link whose own folder is inside a
    /// root may lead anywhere, since deleting it removes the link and never what it leads to.
    /// </summary>
    public static string EnsureRemovable(string path, IReadOnlyList<string> roots)
    {
        var full = Path.GetFullPath(path);
        if (new FileInfo(full).LinkTarget is not null && Path.GetDirectoryName(full) is { } folder
            && roots.Any(r => IsInsideAsWritten(full, r) && (IsInside(folder, r) || string.Equals(RealPath(folder), RealPath(r), StringComparison.Ordinal))))
        {
            return full;
        }

        return EnsureInside(path, roots);
    }

    /// <summary>
    /// The path with every symbolic link along it resolved, as far as the path exists; the part that does not exist
    /// yet is appended as written (after normalising <c>..</c>).
    /// </summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        var root = Path.GetPathRoot(full) ?? "";
        var current = root;
        var parts = full[root.Length..].Split(new[] { Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar }, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (!info.Exists)
            {
                // Nothing further exists; no further links to resolve.
                return Path.GetFullPath(Path.Combine(new[] { next }.Concat(parts.Skip(i + 1)).ToArray()));
            }

            var target = info.LinkTarget is null ? null : info.ResolveLinkTarget(returnFinalTarget: true);
            current = target is null ? next : RealPath(target.FullName);
        }

        return current;
    }
}
