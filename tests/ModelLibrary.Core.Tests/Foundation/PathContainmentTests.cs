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
}
