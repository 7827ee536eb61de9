using System.Text;
using System.Text.Json;

namespace ModelLibrary.Sources.Oci;

/// <summary>A user name and password (or token) for one registry, and where it came from (for messages).</summary>
public sealed record RegistryCredential(string Username, string Password, string Origin)
{
    public string BasicValue => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    public override string ToString() => $"{Username} ({Origin})";
}

/// <summary>What is known about logging in to one registry: a credential, or why there is none.</summary>
/// <param name="UnsupportedHelper">
/// The credential helper Docker's config.json names for this registry (<c>credHelpers</c> or <c>credsStore</c>),
/// which this library does not run: the error for a 401 names it, so the user knows why their login is not used.
/// </param>
public sealed record RegistryLogin(RegistryCredential? Credential, string? UnsupportedHelper = null)
{
    public static RegistryLogin None { get; } = new((RegistryCredential?)null);
}

/// <summary>
/// Where registry credentials come from: a registered Oci source for the host (<c>-Credential</c>), else the
/// <c>auths</c> of Docker's config.json (<c>$DOCKER_CONFIG/config.json</c>, default <c>~/.docker/config.json</c>;
/// plain <c>auth</c> entries, as <c>docker login</c> writes them without a helper), else none.
/// </summary>
public static class RegistryCredentials
{
    public const string DockerConfigVariable = "DOCKER_CONFIG";

    /// <param name="registered">The credential of a registered Oci source for this registry, if any.</param>
    public static RegistryLogin Find(string registry, RegistryCredential? registered)
    {
        if (registered is not null)
        {
            return new RegistryLogin(registered);
        }

        return FromDockerConfig(registry);
    }

    public static string DockerConfigPath()
    {
        var folder = Environment.GetEnvironmentVariable(DockerConfigVariable);
        if (string.IsNullOrEmpty(folder))
        {
            folder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        }

        return Path.Combine(folder, "config.json");
    }

    /// <summary>
    /// Reads the entry for <paramref name="registry"/> from Docker's config.json. Keys are matched as docker does:
    /// the bare host[:port], or a URL whose host[:port] it is (<c>https://host/v1/</c>). A file that cannot be read
    /// or parsed counts as no credential (docker itself would refuse it, but a pull without login may still work).
    /// </summary>
    public static RegistryLogin FromDockerConfig(string registry)
    {
        var path = DockerConfigPath();
        JsonDocument document;
        try
        {
            if (!File.Exists(path) || new FileInfo(path).Length > 1024 * 1024)
            {
                return RegistryLogin.None;
            }

            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return RegistryLogin.None;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return RegistryLogin.None;
            }

            string? helper = null;
            if (root.TryGetProperty("credHelpers", out var helpers) && helpers.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in helpers.EnumerateObject())
                {
                    if (KeyMatches(entry.Name, registry) && entry.Value.ValueKind == JsonValueKind.String)
                    {
                        helper = "docker-credential-" + entry.Value.GetString();
                    }
                }
            }

            if (helper is null && root.TryGetProperty("credsStore", out var store) && store.ValueKind == JsonValueKind.String && store.GetString() is { Length: > 0 } storeName)
            {
                helper = "docker-credential-" + storeName;
            }

            if (root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in auths.EnumerateObject())
                {
                    if (!KeyMatches(entry.Name, registry) || entry.Value.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    if (entry.Value.TryGetProperty("auth", out var auth) && auth.ValueKind == JsonValueKind.String && Decode(auth.GetString()) is { } pair)
                    {
                        return new RegistryLogin(new RegistryCredential(pair.User, pair.Password, $"{path} auths[\"{entry.Name}\"]"));
                    }

                    if (entry.Value.TryGetProperty("username", out var user) && entry.Value.TryGetProperty("password", out var password)
                        && user.ValueKind == JsonValueKind.String && password.ValueKind == JsonValueKind.String)
                    {
                        return new RegistryLogin(new RegistryCredential(user.GetString()!, password.GetString()!, $"{path} auths[\"{entry.Name}\"]"));
                    }
                }
            }

            return new RegistryLogin(null, helper);
        }
    }

    static bool KeyMatches(string key, string registry)
    {
        var host = key;
        if (Uri.TryCreate(key, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        }

        return string.Equals(host.TrimEnd('/'), registry, StringComparison.OrdinalIgnoreCase);
    }

    static (string User, string Password)? Decode(string? auth)
    {
        if (string.IsNullOrEmpty(auth))
        {
            return null;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
            var colon = text.IndexOf(':');
            return colon > 0 ? (text[..colon], text[(colon + 1)..]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
