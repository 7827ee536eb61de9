namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Locates the real third-party fixtures described in tests/fixtures/MANIFEST.md (kept in the repository, with their
/// provenance), found by walking up from the test binaries to the repository's <c>tests/fixtures</c>.
/// </summary>
internal static class Fixtures
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string File(params string[] parts) => Path.Combine(new[] { Root }.Concat(parts).ToArray());

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (System.IO.File.Exists(Path.Combine(candidate, "MANIFEST.md"))) return candidate;
        }
        throw new InvalidOperationException(
            $"Cannot find tests/fixtures/MANIFEST.md in any folder above {AppContext.BaseDirectory}; " +
            "the tests run from the repository's own tests/ folder.");
    }
}

/// <summary>A temporary folder deleted when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ml-formats-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string Write(string name, byte[] bytes)
    {
        string path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
    }
}

internal static class Assertions
{
    /// <summary>Asserts the action fails with InvalidModelFile and returns the exception.</summary>
    public static ValidationException InvalidFile(Action action)
    {
        var ex = Assert.Throws<ValidationException>(action);
        Assert.Equal(ErrorIds.InvalidModelFile, ex.ErrorId);
        return ex;
    }
}
