namespace ModelLibrary.Compatibility.Tests;

/// <summary>Files of this repository the tests read: the fixtures (tests/fixtures, see its MANIFEST.md) and build outputs.</summary>
static class RepositoryFiles
{
    static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "tests", "fixtures", "MANIFEST.md")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No repository (tests/fixtures/MANIFEST.md) above {AppContext.BaseDirectory}.");
    });

    public static string Root => RootPath.Value;

    public static string Fixture(params string[] parts) => Path.Combine(new[] { Root, "tests", "fixtures" }.Concat(parts).ToArray());

    /// <summary>The inference engine's build output (built before the tests: see the project reference), same configuration as the tests.</summary>
    public static string InferenceEngineFolder()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}") ? "Debug" : "Release";
        return Path.Combine(Root, "src", "ModelLibrary.Inference", "bin", configuration, "net8.0");
    }
}

/// <summary>A temporary folder deleted when the test ends.</summary>
sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ml-compat-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
