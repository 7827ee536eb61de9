using System.Collections;
using System.Text.Json;
using ModelLibrary.Configuration;
using ModelLibrary.Library;
using ModelLibrary.Tests.Formats;
using TempDirectory = ModelLibrary.Tests.Foundation.TempDirectory;

namespace ModelLibrary.Tests.Validation;

/// <summary>
/// A library in a temporary folder for validation tests: its configuration, its service, and helpers that place the
/// real fixtures (tests/fixtures, written by other tools) or files the tests build into it.
/// </summary>
internal sealed class TestLibrary : IDisposable
{
    static readonly HttpClient Http = new();

    public TestLibrary(bool validation = true, bool scanning = true)
    {
        Directory = new TempDirectory();
        Root = Directory.Combine("lib");
        Outside = Directory.Combine("outside");
        System.IO.Directory.CreateDirectory(Root);
        System.IO.Directory.CreateDirectory(Outside);
        Configuration = LibraryConfiguration.FromEnvironment(new Hashtable { [LibraryConfiguration.ModelsDirVariable] = Root })
            .With(enableModelValidation: validation, enableSecurityScanning: scanning);
        Service = new ModelLibraryService(Configuration, Http);
    }

    public TempDirectory Directory { get; }
    /// <summary>The library root (MODELS_DIR).</summary>
    public string Root { get; }
    /// <summary>A folder beside the library, outside every root.</summary>
    public string Outside { get; }
    public LibraryConfiguration Configuration { get; }
    public ModelLibraryService Service { get; }

    /// <summary>Copies a real fixture to a path relative to the root (or to any absolute path).</summary>
    public string CopyFixture(string fixture, string destination)
    {
        var path = Path.IsPathRooted(destination) ? destination : Path.Combine(Root, destination);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Copy(Fixtures.File(fixture.Split('/')), path, overwrite: true);
        return path;
    }

    /// <summary>Writes bytes the test built to a path relative to the root (or to any absolute path).</summary>
    public string Write(string destination, byte[] bytes)
    {
        var path = Path.IsPathRooted(destination) ? destination : Path.Combine(Root, destination);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Registers a file catalog holding the given entries (seed JSON, snake_case).</summary>
    public void AddCatalog(params object[] entries)
    {
        var path = Path.Combine(Directory.Path, "catalog-" + Guid.NewGuid().ToString("n")[..6] + ".json");
        File.WriteAllText(path, JsonSerializer.Serialize(new { models = entries }));
        Service.Catalog.Register("test" + Guid.NewGuid().ToString("n")[..6], path, null, false, false);
        Service.InvalidateCatalog();
    }

    public void Dispose() => Directory.Dispose();
}

/// <summary>Facts about the real fixtures, from tests/fixtures/MANIFEST.md.</summary>
internal static class Stories
{
    public const string Fixture = "gguf/stories260K.gguf";
    public const long Size = 1185376;
    public const string Checksum = "sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
}
