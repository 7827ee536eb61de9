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
    /// The models folder as LM Studio finds it: its home is <c>~/.lmstudio</c> unless <c>~/.lmstudio-home-pointer</c>
    /// names another; models are under <c>&lt;home&gt;/models</c>; the older <c>~/.cache/lm-studio/models</c> when only it exists.
    /// </summary>
    public static string DefaultRoot()
    {
        var user = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var home = Path.Combine(user, ".lmstudio");
        var pointer = Path.Combine(user, ".lmstudio-home-pointer");
        try
        {
            if (File.Exists(pointer) && File.ReadAllText(pointer).Trim() is { Length: > 0 } pointed)
            {
                home = pointed;
            }
        }
        catch (IOException)
        {
            // An unreadable pointer: the default home stands.
        }

        var models = Path.Combine(home, "models");
        var legacy = Path.Combine(user, ".cache", "lm-studio", "models");
        return !Directory.Exists(models) && Directory.Exists(legacy) ? legacy : models;
    }

    protected override string? IdFor(string relativePath)
    {
        // Only <publisher>/<repo>/<file> (a GGUF) or <publisher>/<repo> (a safetensors folder): LM Studio looks no deeper.
        var parts = relativePath.Split('/');
        return parts.Length == 3 || (parts.Length == 2 && !relativePath.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)) ? relativePath : null;
    }
}
