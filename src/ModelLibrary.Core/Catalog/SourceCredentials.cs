using System.Text.Json;

namespace ModelLibrary.Catalog;

/// <summary>
/// The credential a source was registered with (<c>Register-ModelSource -Credential</c>), one file per source in
/// <c>&lt;MODELS_DIR&gt;/credentials/&lt;name&gt;.json</c>, readable by the owner only (mode 0600 on Unix), as
/// Docker keeps <c>docker login</c> credentials in config.json. Kept out of registry.db so that copying or
/// sharing the registry never carries a secret along.
/// </summary>
public sealed class SourceCredentials
{
    readonly string directory;

    public SourceCredentials(string modelsDirectory) => directory = Path.Combine(modelsDirectory, "credentials");

    public sealed record Entry(string Username, string Password);

    public Entry? Get(string sourceName)
    {
        var path = PathOf(sourceName);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<Entry>(File.ReadAllBytes(path)) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    public void Set(string sourceName, Entry? entry)
    {
        var path = PathOf(sourceName);
        if (entry is null)
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }

            return;
        }

        Directory.CreateDirectory(directory);
        var temp = path + ".tmp";
        using (var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            JsonSerializer.Serialize(stream, entry);
        }

        File.Move(temp, path, overwrite: true);
    }

    string PathOf(string sourceName) => Path.Combine(directory, sourceName.ToLowerInvariant() + ".json");
}
