namespace ModelLibrary.Sources.Stores;

/// <summary>
/// LM Studio's models folder: <c>&lt;models&gt;/&lt;publisher&gt;/&lt;repo&gt;/&lt;file&gt;</c>; each GGUF (split sets and
/// mmproj projectors aside) or safetensors folder is one model with the id <c>&lt;publisher&gt;/&lt;repo&gt;/&lt;file&gt;</c>,
/// as LM Studio's own <c>lms ls</c> shows its model keys.
/// </summary>
public sealed class LMStudioStore : FolderStore
{
    public LMStudioStore(string name, string root) : base(name, root) { }

    public override string Tool => "LM Studio";

    /// <summary>
    /// The models folder as LM Studio finds it. Its home, as lmstudio-ai/lmstudio-js
    /// packages/lms-common-server/src/findLMStudioHome.ts finds it (the code <c>lms</c> and the SDK share):
    /// <c>$LMSTUDIO_HOME</c>, else the path written in <c>~/.lmstudio-home-pointer</c>, else <c>~/.cache/lm-studio</c> when
    /// it exists (older installs), else <c>~/.lmstudio</c>. The models folder is <c>&lt;home&gt;/models</c>
    /// (lmstudioPaths.ts defaultModelsFolder) unless the user chose another in the app (My Models, "Models Directory"),
    /// which LM Studio keeps as <c>downloadsFolder</c> in <c>&lt;home&gt;/settings.json</c>, or in older versions in the
    /// app's own settings.json (<c>%APPDATA%\LM Studio</c>, <c>~/Library/Application Support/LM Studio</c>,
    /// <c>~/.config/LM Studio</c>), as lmstudio-ai/lmstudio-bug-tracker#1601 and portable-install scripts show.
    /// </summary>
    public static string DefaultRoot()
    {
        var home = Home();
        foreach (var settings in SettingsFiles(home))
        {
            if (DownloadsFolder(settings) is { } chosen)
            {
                return chosen;
            }
        }

        return Path.Combine(home, "models");
    }

    /// <summary>LM Studio's home folder (findLMStudioHome.ts), read only: LM Studio writes the pointer itself, the library never does.</summary>
    public static string Home()
    {
        if (Environment.GetEnvironmentVariable("LMSTUDIO_HOME") is { Length: > 0 } set)
        {
            return Path.GetFullPath(set);
        }

        var user = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        try
        {
            var pointer = Path.Combine(user, ".lmstudio-home-pointer");
            if (File.Exists(pointer) && File.ReadAllText(pointer).Trim() is { Length: > 0 } pointed)
            {
                return Path.GetFullPath(pointed, user);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable pointer: LM Studio would fall back the same way.
        }

        var cache = Path.Combine(user, ".cache", "lm-studio");
        return Directory.Exists(cache) ? cache : Path.Combine(user, ".lmstudio");
    }

    /// <summary>Where LM Studio keeps its settings: the home's settings.json, then the desktop app's (older versions).</summary>
    static IEnumerable<string> SettingsFiles(string home)
    {
        yield return Path.Combine(home, "settings.json");
        var appData = OperatingSystem.IsWindows() ? Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData)
            : OperatingSystem.IsMacOS() ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "Library", "Application Support")
            : Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        yield return Path.Combine(appData, "LM Studio", "settings.json");
    }

    /// <summary>The <c>downloadsFolder</c> a settings file names (<c>~</c> is the user's home; a relative path is taken from the file's folder).</summary>
    static string? DownloadsFolder(string settings)
    {
        try
        {
            if (!File.Exists(settings))
            {
                return null;
            }

            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(settings), new System.Text.Json.JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = System.Text.Json.JsonCommentHandling.Skip });
            if (json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && json.RootElement.TryGetProperty("downloadsFolder", out var value) && value.ValueKind == System.Text.Json.JsonValueKind.String
                && value.GetString() is { Length: > 0 } folder)
            {
                var user = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                folder = folder == "~" || folder.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(user, folder.TrimStart('~', '/')) : folder;
                // Kept even when it does not exist (an unplugged drive): registering then names the folder LM Studio uses.
                return Path.GetFullPath(folder, Path.GetDirectoryName(settings)!);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
        {
            // A settings file being rewritten or unreadable: the default folder stands.
        }

        return null;
    }

    protected override string? IdFor(string relativePath)
    {
        // Only <publisher>/<repo>/<file> (a GGUF) or <publisher>/<repo> (a safetensors folder): LM Studio looks no deeper.
        var parts = relativePath.Split('/');
        return parts.Length == 3 || (parts.Length == 2 && !relativePath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) ? relativePath : null;
    }
}
