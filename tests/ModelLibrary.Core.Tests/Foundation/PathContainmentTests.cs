using ModelLibrary.Files;

namespace ModelLibrary.Tests.Foundation;

public class PathContainmentTests
{
    [Fact]
    public void Compares_by_segments_not_string_prefix()
    {
        using var dir = new TempDirectory();
        var root = dir.Combine("models");
        Directory.CreateDirectory(root);
        Assert.True(PathContainment.IsInside(Path.Combine(root, "a", "b.gguf"), root));
        Assert.False(PathContainment.IsInside(dir.Combine("models-evil", "x"), root));
        Assert.False(PathContainment.IsInside(Path.Combine(root, "..", "x"), root));
        Assert.False(PathContainment.IsInside(root, root));
    }

    [Fact]
    public void Follows_symbolic_links_out_of_the_root()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var dir = new TempDirectory();
        var root = dir.Combine("models");
        var outside = dir.Combine("outside");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);
        Directory.CreateSymbolicLink(Path.Combine(root, "link"), outside);
        Assert.False(PathContainment.IsInside(Path.Combine(root, "link", "file.gguf"), root));
        var e = Assert.Throws<ModelSecurityException>(() => PathContainment.EnsureInside(Path.Combine(root, "link"), new[] { root }));
        Assert.Equal(ErrorIds.UnsafeModelContent, e.ErrorId);
        Assert.Equal("SecurityError", e.ErrorInfo.Type);
    }

    [Fact]
    public void The_roots_parent_itself_is_outside()
    {
        // Path.GetRelativePath gives exactly ".." here: no separator after it for a prefix check to see.
        using var dir = new TempDirectory();
        var root = dir.Combine("library", "models");
        Directory.CreateDirectory(root);
        var parent = dir.Combine("library");
        Assert.Equal("..", Path.GetRelativePath(root, parent));
        Assert.False(PathContainment.IsInsideAsWritten(parent, root));
        Assert.False(PathContainment.IsInside(parent, root));
        Assert.False(PathContainment.IsInsideAsWritten(parent + Path.DirectorySeparatorChar, root));
        Assert.True(PathContainment.IsInside(Path.Combine(root, "..x"), root)); // a name that starts with two dots is inside
    }

    [Fact]
    public void RealPath_keeps_the_missing_tail_of_a_path()
    {
        using var dir = new TempDirectory();
        var existing = dir.Combine("models");
        Directory.CreateDirectory(existing);
        var missing = Path.Combine(existing, "not-yet", "deeper", "model.gguf");
        Assert.Equal(Path.GetFullPath(missing), PathContainment.RealPath(missing));
        Assert.Equal(Path.GetFullPath(missing), PathContainment.RealPath(Path.Combine(existing, "not-yet", "x", "..", "deeper", "model.gguf")));

        if (!OperatingSystem.IsWindows())
        {
            // Through a link, the existing part resolves and the missing tail stays as written.
            var link = dir.Combine("link");
            Directory.CreateSymbolicLink(link, existing);
            Assert.Equal(Path.Combine(PathContainment.RealPath(existing), "not-yet", "deeper", "model.gguf"),
                PathContainment.RealPath(Path.Combine(link, "not-yet", "deeper", "model.gguf")));
        }
    }
}
