using ModelLibrary.Catalog;
using ModelLibrary.Sources.Stores;

namespace ModelLibrary.Library;

/// <summary>
/// Optimize-ModelLibrary: identical model files (same size, then same SHA-256) across the library's provider folders and
/// the registered stores, on one file system, become hard links of one file. Each replacement is atomic (link to a
/// temporary name, then rename over the file), never crosses file systems (the device is compared first, and link(2)
/// refuses anyway), and never changes a file's content. Links are never followed: a snapshot's links are not files.
/// </summary>
public sealed class LibraryOptimizer
{
    /// <summary>Smaller files (configs, manifests, templates) are not worth a link.</summary>
    public const long MinimumSize = 64 * 1024;

    readonly ModelLibraryService library;

    public LibraryOptimizer(ModelLibraryService library) => this.library = library;

    /// <summary>One replacement: <see cref="Replace"/> becomes a hard link of <see cref="Keep"/>; <see cref="Saves"/> bytes when it was its file's last name.</summary>
    public sealed record LinkPlan(string Keep, string Replace, long Size, long Saves);

    /// <summary>True where files can be told apart by device and inode (Linux, macOS; Windows: volume and file index); elsewhere nothing is planned.</summary>
    public static bool Supported => FileLinks.CanTellIdentity;

    /// <summary>The folders looked at: the provider folders, then each registered store's folder (files of stores are kept in preference).</summary>
    public IReadOnlyList<(string Root, bool External)> Roots()
    {
        var roots = new List<(string, bool)>
        {
            (library.Configuration.LlamaCppModelsDirectory, false),
            (library.Configuration.TransformersModelsDirectory, false),
        };
        roots.AddRange(library.Catalog.ListSources().Where(s => ModelCatalog.IsStoreType(s.Type)).Select(s => (s.FetchUri, true)));
        return roots.Where(r => Directory.Exists(r.Item1)).Distinct().ToList();
    }

    public async Task<IReadOnlyList<LinkPlan>> PlanAsync(IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (!Supported)
        {
            return Array.Empty<LinkPlan>();
        }

        var files = new List<(string Path, long Size, bool External, FileLinks.Identity Id)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (root, external) in Roots())
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint };
            foreach (var info in new DirectoryInfo(root).EnumerateFiles("*", options))
            {
                if (info.Length < MinimumSize || info.LinkTarget is not null || info.Name.StartsWith(".modellibrary-", StringComparison.Ordinal) || !seen.Add(info.FullName))
                {
                    continue;
                }

                if (FileLinks.IdentityOf(info.FullName) is { } id)
                {
                    files.Add((info.FullName, info.Length, external, id));
                }
            }
        }

        var plans = new List<LinkPlan>();
        foreach (var sameSize in files.GroupBy(f => (f.Size, f.Id.Device)).Where(g => g.Select(f => f.Id.Inode).Distinct().Count() > 1))
        {
            // One hash per inode: names of one file are already shared.
            var byInode = sameSize.GroupBy(f => f.Id.Inode).ToList();
            var hashed = new List<(string Hash, List<(string Path, long Size, bool External, FileLinks.Identity Id)> Names)>();
            foreach (var inode in byInode)
            {
                progress?.Report(inode.First().Path);
                hashed.Add((await Sha256Checksum.HexOfFileAsync(inode.First().Path, cancellationToken).ConfigureAwait(false), inode.ToList()));
            }

            foreach (var same in hashed.GroupBy(h => h.Hash).Where(g => g.Count() > 1))
            {
                // Keep a store's file (another tool's names stay as they are where possible), else the one with most names.
                var ordered = same.OrderByDescending(h => h.Names.Any(n => n.External)).ThenByDescending(h => h.Names[0].Id.Links).ThenBy(h => h.Names[0].Path, StringComparer.Ordinal).ToList();
                var keep = ordered[0].Names[0].Path;
                foreach (var other in ordered.Skip(1))
                {
                    // The bytes come back only when every name of that file is replaced.
                    var freed = other.Names[0].Id.Links <= other.Names.Count;
                    foreach (var name in other.Names)
                    {
                        plans.Add(new LinkPlan(keep, name.Path, name.Size, freed && name == other.Names[^1] ? name.Size : 0));
                    }
                }
            }
        }

        return plans;
    }

    /// <summary>Carries out the plans whose file is still what was planned (same size and identity); returns what was done.</summary>
    public OptimizeResult Run(IReadOnlyList<LinkPlan> plans)
    {
        var done = new List<LinkPlan>();
        foreach (var plan in plans)
        {
            // Still the file that was hashed: same size and not already the kept one (a file that changed since is left alone).
            var keep = FileLinks.IdentityOf(plan.Keep);
            var replace = FileLinks.IdentityOf(plan.Replace);
            if (keep is null || replace is null || keep.Value.Device != replace.Value.Device || keep.Value.Inode == replace.Value.Inode
                || new FileInfo(plan.Replace).Length != plan.Size || new FileInfo(plan.Keep).Length != plan.Size)
            {
                continue;
            }

            if (FileLinks.TryLinkAtomically(plan.Keep, plan.Replace))
            {
                done.Add(plan);
            }
        }

        return Summarize(done, whatIf: false);
    }

    public static OptimizeResult Summarize(IReadOnlyList<LinkPlan> plans, bool whatIf) => new()
    {
        FilesLinked = plans.Count,
        BytesSaved = plans.Sum(p => p.Saves),
        Links = plans.Select(p => $"{p.Replace} => {p.Keep}").ToArray(),
        WhatIf = whatIf,
    };
}
