using System.Collections;

namespace ModelLibrary.Configuration;

/// <summary>Where an effective setting came from.</summary>
public enum SettingSource
{
    Default,
    Environment,
    Session,
}

/// <summary>One effective setting, as <c>Get-ModelLibraryConfiguration</c> shows it.</summary>
public sealed class ConfigurationSetting
{
    public ConfigurationSetting(string name, string variable, object? value, SettingSource source, string description)
    {
        Name = name;
        Variable = variable;
        Value = value;
        Source = source;
        Description = description;
    }

    public string Name { get; }
    /// <summary>The environment variable that sets it.</summary>
    public string Variable { get; }
    public object? Value { get; }
    public SettingSource Source { get; }
    public string Description { get; }
}

/// <summary>
/// The effective configuration: the contract's environment variables with their defaults, validated, plus
/// where each value came from. Immutable; a session change makes a new instance with <see cref="With"/>.
/// </summary>
public sealed record LibraryConfiguration
{
    public const string ModelsDirVariable = "MODELS_DIR";
    public const string LlamaCppDirVariable = "LLAMA_CPP_MODELS_DIR";
    public const string TransformersDirVariable = "TRANSFORMERS_MODELS_DIR";
    public const string MaxConcurrentVariable = "MAX_CONCURRENT_DOWNLOADS";
    public const string TimeoutVariable = "DOWNLOAD_TIMEOUT";
    public const string ValidationVariable = "ENABLE_MODEL_VALIDATION";
    public const string ScanningVariable = "ENABLE_SECURITY_SCANNING";
    // Beyond the contract: the engine's tuning knobs.
    public const string ConnectionsVariable = "DOWNLOAD_CONNECTIONS";
    public const string StallTimeoutVariable = "DOWNLOAD_STALL_TIMEOUT";
    public const string MaxBytesPerSecondVariable = "DOWNLOAD_MAX_BYTES_PER_SECOND";

    public string ModelsDirectory { get; init; } = "";
    public string LlamaCppModelsDirectory { get; init; } = "";
    public string TransformersModelsDirectory { get; init; } = "";
    public int MaxConcurrentDownloads { get; init; } = SettingRanges.MaxConcurrentDownloads.Default;
    /// <summary>Seconds a whole download may take.</summary>
    public int DownloadTimeout { get; init; } = SettingRanges.DownloadTimeout.Default;
    public bool EnableModelValidation { get; init; } = true;
    public bool EnableSecurityScanning { get; init; } = true;
    /// <summary>
    /// Most connections to one host, shared by every download of this process: a download starts on one and adds
    /// connections while they raise its rate, up to what is free of this budget.
    /// </summary>
    public int DownloadConnections { get; init; } = SettingRanges.DownloadConnections.Default;
    /// <summary>Bytes per second one download may take (over all its connections); 0: no limit.</summary>
    public int DownloadMaxBytesPerSecond { get; init; } = SettingRanges.DownloadMaxBytesPerSecond.Default;
    /// <summary>Seconds without a byte before a segment is restarted.</summary>
    public int DownloadStallTimeout { get; init; } = SettingRanges.DownloadStallTimeout.Default;

    /// <summary>Which setting (by variable name) came from where.</summary>
    public IReadOnlyDictionary<string, SettingSource> Sources { get; init; } = new Dictionary<string, SettingSource>();

    public string DownloadsDirectory => Path.Combine(ModelsDirectory, "downloads");
    public string MetadataDirectory => Path.Combine(ModelsDirectory, "metadata");
    public string QuarantineDirectory => Path.Combine(ModelsDirectory, "quarantine");
    public string RegistryPath => Path.Combine(ModelsDirectory, "registry.db");

    /// <summary>Every directory the library may write into. Nothing is ever written elsewhere.</summary>
    public IReadOnlyList<string> WritableRoots => new[] { ModelsDirectory, LlamaCppModelsDirectory, TransformersModelsDirectory };

    /// <summary>The folder a provider's models land in; providers without one of their own use the root.</summary>
    public string ProviderDirectory(string provider) => provider.ToLowerInvariant() switch
    {
        ModelFileNames.LlamaCpp or "ollama" => LlamaCppModelsDirectory,
        ModelFileNames.Transformers or "vllm" => TransformersModelsDirectory,
        var other => Path.Combine(ModelsDirectory, SanitizeFolderName(other)),
    };

    /// <summary>Reads the process environment.</summary>
    public static LibraryConfiguration FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariables());

    /// <summary>Reads the given variables, applying the contract's defaults; a bad value throws naming the variable.</summary>
    public static LibraryConfiguration FromEnvironment(IDictionary variables)
    {
        var sources = new Dictionary<string, SettingSource>();
        string? Get(string name)
        {
            var value = variables.Contains(name) ? variables[name] as string : null;
            if (string.IsNullOrWhiteSpace(value))
            {
                sources[name] = SettingSource.Default;
                return null;
            }

            sources[name] = SettingSource.Environment;
            return value.Trim();
        }

        var root = Get(ModelsDirVariable) is { } r ? CheckDirectory(ModelsDirVariable, r) : DefaultRoot(variables);
        var llama = Get(LlamaCppDirVariable) is { } l ? CheckDirectory(LlamaCppDirVariable, l) : Path.Combine(root, ModelFileNames.LlamaCpp);
        var transformers = Get(TransformersDirVariable) is { } t ? CheckDirectory(TransformersDirVariable, t) : Path.Combine(root, ModelFileNames.Transformers);

        return new LibraryConfiguration
        {
            ModelsDirectory = root,
            LlamaCppModelsDirectory = llama,
            TransformersModelsDirectory = transformers,
            MaxConcurrentDownloads = SettingRanges.MaxConcurrentDownloads.Parse(Get(MaxConcurrentVariable)),
            DownloadTimeout = SettingRanges.DownloadTimeout.Parse(Get(TimeoutVariable)),
            EnableModelValidation = ParseBool(ValidationVariable, Get(ValidationVariable), true),
            EnableSecurityScanning = ParseBool(ScanningVariable, Get(ScanningVariable), true),
            DownloadConnections = SettingRanges.DownloadConnections.Parse(Get(ConnectionsVariable)),
            DownloadStallTimeout = SettingRanges.DownloadStallTimeout.Parse(Get(StallTimeoutVariable)),
            DownloadMaxBytesPerSecond = SettingRanges.DownloadMaxBytesPerSecond.Parse(Get(MaxBytesPerSecondVariable)),
            Sources = sources,
        };
    }

    /// <summary>
    /// A session change. Only the arguments given change; a new root moves the provider folders with it
    /// unless they were set on their own.
    /// </summary>
    public LibraryConfiguration With(string? modelsDirectory = null, string? llamaCppModelsDirectory = null,
        string? transformersModelsDirectory = null, int? maxConcurrentDownloads = null, int? downloadTimeout = null,
        bool? enableModelValidation = null, bool? enableSecurityScanning = null, int? downloadConnections = null,
        int? downloadStallTimeout = null, int? downloadMaxBytesPerSecond = null)
    {
        var sources = new Dictionary<string, SettingSource>(Sources);
        var next = this;
        if (modelsDirectory is not null)
        {
            var root = CheckDirectory(ModelsDirVariable, modelsDirectory);
            sources[ModelsDirVariable] = SettingSource.Session;
            next = next with
            {
                ModelsDirectory = root,
                LlamaCppModelsDirectory = Source(LlamaCppDirVariable) == SettingSource.Default ? Path.Combine(root, ModelFileNames.LlamaCpp) : LlamaCppModelsDirectory,
                TransformersModelsDirectory = Source(TransformersDirVariable) == SettingSource.Default ? Path.Combine(root, ModelFileNames.Transformers) : TransformersModelsDirectory,
            };
        }

        if (llamaCppModelsDirectory is not null)
        {
            next = next with { LlamaCppModelsDirectory = CheckDirectory(LlamaCppDirVariable, llamaCppModelsDirectory) };
            sources[LlamaCppDirVariable] = SettingSource.Session;
        }

        if (transformersModelsDirectory is not null)
        {
            next = next with { TransformersModelsDirectory = CheckDirectory(TransformersDirVariable, transformersModelsDirectory) };
            sources[TransformersDirVariable] = SettingSource.Session;
        }

        if (maxConcurrentDownloads is { } max)
        {
            next = next with { MaxConcurrentDownloads = SettingRanges.MaxConcurrentDownloads.Check(max) };
            sources[MaxConcurrentVariable] = SettingSource.Session;
        }

        if (downloadTimeout is { } timeout)
        {
            next = next with { DownloadTimeout = SettingRanges.DownloadTimeout.Check(timeout) };
            sources[TimeoutVariable] = SettingSource.Session;
        }

        if (enableModelValidation is { } validation)
        {
            next = next with { EnableModelValidation = validation };
            sources[ValidationVariable] = SettingSource.Session;
        }

        if (enableSecurityScanning is { } scanning)
        {
            next = next with { EnableSecurityScanning = scanning };
            sources[ScanningVariable] = SettingSource.Session;
        }

        if (downloadConnections is { } connections)
        {
            next = next with { DownloadConnections = SettingRanges.DownloadConnections.Check(connections) };
            sources[ConnectionsVariable] = SettingSource.Session;
        }

        if (downloadStallTimeout is { } stall)
        {
            next = next with { DownloadStallTimeout = SettingRanges.DownloadStallTimeout.Check(stall) };
            sources[StallTimeoutVariable] = SettingSource.Session;
        }

        if (downloadMaxBytesPerSecond is { } limit)
        {
            next = next with { DownloadMaxBytesPerSecond = SettingRanges.DownloadMaxBytesPerSecond.Check(limit) };
            sources[MaxBytesPerSecondVariable] = SettingSource.Session;
        }

        return next with { Sources = sources };
    }

    public SettingSource Source(string variable) => Sources.TryGetValue(variable, out var s) ? s : SettingSource.Default;

    /// <summary>Each effective value and where it came from.</summary>
    public IEnumerable<ConfigurationSetting> Describe()
    {
        ConfigurationSetting S(string name, string variable, object value, string description) => new(name, variable, value, Source(variable), description);
        yield return S(nameof(ModelsDirectory), ModelsDirVariable, ModelsDirectory, "Library root: registry, downloads, metadata cache.");
        yield return S(nameof(LlamaCppModelsDirectory), LlamaCppDirVariable, LlamaCppModelsDirectory, "Where llama-cpp (GGUF) models land.");
        yield return S(nameof(TransformersModelsDirectory), TransformersDirVariable, TransformersModelsDirectory, "Where transformers (safetensors) models land.");
        yield return S(nameof(MaxConcurrentDownloads), MaxConcurrentVariable, MaxConcurrentDownloads, "Downloads transferring at once; more wait as Pending.");
        yield return S(nameof(DownloadTimeout), TimeoutVariable, DownloadTimeout, "Seconds a download may take in all.");
        yield return S(nameof(EnableModelValidation), ValidationVariable, EnableModelValidation, "Checksum and format checks before a model becomes Local.");
        yield return S(nameof(EnableSecurityScanning), ScanningVariable, EnableSecurityScanning, "Security scan before a model becomes Local.");
        yield return S(nameof(DownloadConnections), ConnectionsVariable, DownloadConnections, "Most connections to one host, shared by all downloads; each download adds them while they help.");
        yield return S(nameof(DownloadMaxBytesPerSecond), MaxBytesPerSecondVariable, DownloadMaxBytesPerSecond, "Bytes per second one download may take; 0 for no limit.");
        yield return S(nameof(DownloadStallTimeout), StallTimeoutVariable, DownloadStallTimeout, "Seconds without a byte before a segment restarts.");
    }

    static string DefaultRoot(IDictionary variables)
    {
        if (OperatingSystem.IsWindows())
        {
            var local = variables["LOCALAPPDATA"] as string;
            return Path.Combine(string.IsNullOrEmpty(local) ? Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData) : local, "ModelLibrary");
        }

        var xdg = variables.Contains("XDG_DATA_HOME") ? variables["XDG_DATA_HOME"] as string : null;
        if (!string.IsNullOrWhiteSpace(xdg) && Path.IsPathRooted(xdg))
        {
            return Path.Combine(xdg, "ModelLibrary");
        }

        var home = variables.Contains("HOME") ? variables["HOME"] as string : null;
        home = string.IsNullOrWhiteSpace(home) ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) : home;
        return Path.Combine(home, ".local", "share", "ModelLibrary");
    }

    static string CheckDirectory(string variable, string value)
    {
        string full;
        try
        {
            full = Path.GetFullPath(Environment.ExpandEnvironmentVariables(ExpandHome(value)));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw Invalid(variable, value, $"it is not a valid path ({e.Message})");
        }

        if (File.Exists(full))
        {
            throw Invalid(variable, value, "it names a file, not a directory");
        }

        return Path.TrimEndingDirectorySeparator(full);
    }

    static string ExpandHome(string value) =>
        value == "~" || value.StartsWith("~/", StringComparison.Ordinal) || value.StartsWith("~\\", StringComparison.Ordinal)
            ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + value[1..]
            : value;

    static bool ParseBool(string variable, string? value, bool fallback) => value?.ToLowerInvariant() switch
    {
        null => fallback,
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => throw Invalid(variable, value, "it must be true or false (also 1/0, yes/no, on/off)"),
    };

    static ModelLibraryException Invalid(string variable, string value, string why) => Errors.InvalidConfiguration(variable, value, why);

    static string SanitizeFolderName(string name)
    {
        var invalid = Path.GetInvalidFileNameChars();
        var clean = new string(name.Select(c => invalid.Contains(c) || c == '.' ? '_' : c).ToArray());
        return string.IsNullOrEmpty(clean) ? "_" : clean;
    }
}
