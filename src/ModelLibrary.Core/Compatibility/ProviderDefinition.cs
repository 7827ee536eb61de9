using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelLibrary.Compatibility;

/// <summary>
/// Reads provider definitions from a hashtable-like dictionary or JSON, and writes them back as JSON.
/// Keys are matched ignoring case, underscores and dashes, so the seed's <c>supported_formats</c> and PowerShell's
/// <c>SupportedFormats</c> both work. Unknown keys are refused rather than ignored: a misspelt key would otherwise
/// silently lose a limit. Every problem is reported at once.
/// </summary>
public static partial class ProviderDefinition
{
    /// <summary>The keys a definition may have, as the seed spells them.</summary>
    public static IReadOnlyList<string> AllowedKeys { get; } = new[]
    {
        "name", "description", "supported_formats", "required_capabilities", "optional_capabilities",
        "memory_requirements", "performance_characteristics", "model_size_limits", "runtime_overhead", "health_check",
    };

    static readonly Dictionary<string, string> TopLevelAliases = new()
    {
        ["name"] = "name",
        ["description"] = "description",
        ["supportedformats"] = "supported_formats",
        ["formats"] = "supported_formats",
        ["requiredcapabilities"] = "required_capabilities",
        ["optionalcapabilities"] = "optional_capabilities",
        ["memoryrequirements"] = "memory_requirements",
        ["minmemory"] = "min_memory",
        ["performancecharacteristics"] = "performance_characteristics",
        ["modelsizelimits"] = "model_size_limits",
        ["runtimeoverhead"] = "runtime_overhead",
        ["healthcheck"] = "health_check",
        ["health"] = "health_check",
    };

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")]
    private static partial Regex PythonModulePattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._+-]*$")]
    private static partial Regex FormatPattern();

    /// <summary>Reads a definition from a dictionary (a PowerShell hashtable after unwrapping PSObjects, or parsed JSON).</summary>
    /// <exception cref="ModelLibraryException">InvalidProviderDefinition, listing every problem.</exception>
    public static ProviderCapabilities Parse(IDictionary definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var problems = new List<string>();
        var entries = Normalize(definition, "", TopLevelAliases, problems);

        var name = ReadString(entries, "name", problems);
        if (name is null)
        {
            problems.Insert(0, "'name' is missing");
        }
        else if (!NamePattern().IsMatch(name) || name.Contains("..", StringComparison.Ordinal))
        {
            problems.Add($"'name' '{name}' must start with a letter or digit and contain only letters, digits, '.', '_' or '-' (at most 64)");
        }

        var formats = ReadStringList(entries, "supported_formats", problems)?.Select(f => f.ToLowerInvariant()).Distinct().ToArray();
        if (formats is null || formats.Length == 0)
        {
            problems.Add("'supported_formats' is missing or empty: name at least one format, e.g. gguf or safetensors");
        }
        else
        {
            foreach (var bad in formats.Where(f => !FormatPattern().IsMatch(f)))
            {
                problems.Add($"'supported_formats' entry '{bad}' is not a format name (letters, digits, '.', '_', '+', '-')");
            }
        }

        var memory = ReadMemory(entries, problems);
        var limits = ReadSizeLimits(entries, problems);
        var health = ReadHealthCheck(entries, problems);
        var overhead = ReadBytes(entries, "runtime_overhead", problems);
        var description = ReadString(entries, "description", problems);
        var required = ReadStringList(entries, "required_capabilities", problems) ?? Array.Empty<string>();
        var optional = ReadStringList(entries, "optional_capabilities", problems) ?? Array.Empty<string>();
        var performance = ReadPerformance(entries, problems);

        if (problems.Count > 0)
        {
            throw Invalid(name, problems);
        }

        return new ProviderCapabilities
        {
            Name = name!,
            Description = description,
            SupportedFormats = formats!,
            RequiredCapabilities = required,
            OptionalCapabilities = optional,
            MemoryRequirements = memory,
            PerformanceCharacteristics = performance,
            ModelSizeLimits = limits,
            RuntimeOverhead = overhead ?? 0,
            HealthCheck = health,
        };
    }

    /// <summary>Reads a definition from a JSON object.</summary>
    public static ProviderCapabilities ParseJson(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw Invalid(null, new[] { $"it is not valid JSON ({e.Message})" }, e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(null, new[] { $"it must be a JSON object, not {document.RootElement.ValueKind.ToString().ToLowerInvariant()}" });
            }

            return Parse((IDictionary)FromJson(document.RootElement)!);
        }
    }

    /// <summary>Reads a definition from a JSON file; an unreadable file is an invalid definition too.</summary>
    /// <exception cref="ModelLibraryException">InvalidProviderDefinition.</exception>
    public static ProviderCapabilities ReadFile(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw Invalid(null, new[] { $"the file '{path}' could not be read ({e.Message})" }, e);
        }

        return ParseJson(json);
    }

    /// <summary>The canonical JSON form (seed spelling), as stored and as <see cref="ParseJson"/> reads back.</summary>
    public static string ToJson(ProviderCapabilities provider)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", provider.Name);
            if (provider.Description is not null)
            {
                w.WriteString("description", provider.Description);
            }

            WriteArray(w, "supported_formats", provider.SupportedFormats);
            WriteArray(w, "required_capabilities", provider.RequiredCapabilities);
            WriteArray(w, "optional_capabilities", provider.OptionalCapabilities);
            w.WriteStartObject("memory_requirements");
            WriteNumber(w, "min", provider.MemoryRequirements.Min);
            w.WriteEndObject();
            w.WriteStartObject("performance_characteristics");
            WriteString(w, "inference_type", provider.PerformanceCharacteristics.InferenceType);
            WriteString(w, "optimization", provider.PerformanceCharacteristics.Optimization);
            WriteString(w, "quantization_support", provider.PerformanceCharacteristics.QuantizationSupport);
            w.WriteEndObject();
            w.WriteStartObject("model_size_limits");
            WriteNumber(w, "min_size", provider.ModelSizeLimits.MinSize);
            WriteNumber(w, "max_size", provider.ModelSizeLimits.MaxSize);
            w.WriteEndObject();
            w.WriteNumber("runtime_overhead", provider.RuntimeOverhead);
            var h = provider.HealthCheck;
            w.WriteStartObject("health_check");
            w.WriteString("method", h.Method switch { ProbeMethod.PythonModule => "python", var m => m.ToString().ToLowerInvariant() });
            WriteString(w, "endpoint", h.Endpoint);
            WriteArray(w, "endpoint_variables", h.EndpointVariables);
            WriteNumber(w, "default_port", h.DefaultPort);
            WriteString(w, "path", h.Path);
            WriteString(w, "list_property", h.ListProperty);
            WriteArray(w, "executables", h.Executables);
            WriteString(w, "python_module", h.PythonModule);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    static ProviderMemoryRequirements ReadMemory(Dictionary<string, Entry> entries, List<string> problems)
    {
        var min = ReadBytes(entries, "min_memory", problems);
        if (entries.TryGetValue("memory_requirements", out var entry))
        {
            if (entry.Value is IDictionary nested)
            {
                var inner = Normalize(nested, "memory_requirements.", new() { ["min"] = "min", ["minimum"] = "min" }, problems);
                min ??= ReadBytes(inner, "min", problems, "memory_requirements.min");
            }
            else
            {
                // A bare size is the minimum.
                min ??= ReadBytes(entries, "memory_requirements", problems);
            }
        }

        return new ProviderMemoryRequirements { Min = min };
    }

    static ModelSizeLimits ReadSizeLimits(Dictionary<string, Entry> entries, List<string> problems)
    {
        var nested = ReadDictionary(entries, "model_size_limits", problems);
        if (nested is null)
        {
            return new ModelSizeLimits();
        }

        var inner = Normalize(nested, "model_size_limits.", new() { ["minsize"] = "min_size", ["min"] = "min_size", ["maxsize"] = "max_size", ["max"] = "max_size" }, problems);
        var min = ReadBytes(inner, "min_size", problems, "model_size_limits.min_size");
        var max = ReadBytes(inner, "max_size", problems, "model_size_limits.max_size");
        if (min is { } lo && max is { } hi && lo > hi)
        {
            problems.Add($"'model_size_limits' min_size ({ByteSize.Format(lo)}) is larger than max_size ({ByteSize.Format(hi)})");
        }

        return new ModelSizeLimits { MinSize = min, MaxSize = max };
    }

    static PerformanceCharacteristics ReadPerformance(Dictionary<string, Entry> entries, List<string> problems)
    {
        var nested = ReadDictionary(entries, "performance_characteristics", problems);
        if (nested is null)
        {
            return new PerformanceCharacteristics();
        }

        var inner = Normalize(nested, "performance_characteristics.", new()
        {
            ["inferencetype"] = "inference_type",
            ["optimization"] = "optimization",
            ["quantizationsupport"] = "quantization_support",
        }, problems);
        return new PerformanceCharacteristics
        {
            InferenceType = ReadString(inner, "inference_type", problems, "performance_characteristics.inference_type"),
            Optimization = ReadString(inner, "optimization", problems, "performance_characteristics.optimization"),
            QuantizationSupport = ReadString(inner, "quantization_support", problems, "performance_characteristics.quantization_support"),
        };
    }

    static ProviderHealthCheck ReadHealthCheck(Dictionary<string, Entry> entries, List<string> problems)
    {
        var nested = ReadDictionary(entries, "health_check", problems);
        if (nested is null)
        {
            return new ProviderHealthCheck();
        }

        const string P = "health_check.";
        var inner = Normalize(nested, P, new()
        {
            ["method"] = "method", ["type"] = "method",
            ["endpoint"] = "endpoint", ["url"] = "endpoint",
            ["endpointvariables"] = "endpoint_variables", ["endpointvariable"] = "endpoint_variables",
            ["defaultport"] = "default_port", ["port"] = "default_port",
            ["path"] = "path",
            ["listproperty"] = "list_property",
            ["executables"] = "executables", ["executable"] = "executables",
            ["pythonmodule"] = "python_module", ["module"] = "python_module",
        }, problems);

        var methodText = ReadString(inner, "method", problems, P + "method");
        var endpoint = ReadString(inner, "endpoint", problems, P + "endpoint");
        var variables = ReadStringList(inner, "endpoint_variables", problems, P + "endpoint_variables") ?? Array.Empty<string>();
        var port = ReadBytes(inner, "default_port", problems, P + "default_port");
        var path = ReadString(inner, "path", problems, P + "path");
        var executables = ReadStringList(inner, "executables", problems, P + "executables") ?? Array.Empty<string>();
        var module = ReadString(inner, "python_module", problems, P + "python_module");

        ProbeMethod method;
        switch (methodText?.ToLowerInvariant().Replace("_", "").Replace("-", ""))
        {
            case null:
                // Infer the method from what was given.
                method = endpoint is not null || variables.Length > 0 ? ProbeMethod.Http
                    : module is not null ? ProbeMethod.PythonModule
                    : executables.Length > 0 ? ProbeMethod.Executable
                    : ProbeMethod.None;
                break;
            case "http":
                method = ProbeMethod.Http;
                break;
            case "executable":
                method = ProbeMethod.Executable;
                break;
            case "python" or "pythonmodule":
                method = ProbeMethod.PythonModule;
                break;
            case "none":
                method = ProbeMethod.None;
                break;
            default:
                problems.Add($"'{P}method' '{methodText}' is not one of http, executable, python, none");
                method = ProbeMethod.None;
                break;
        }

        if (module is not null && !PythonModulePattern().IsMatch(module))
        {
            problems.Add($"'{P}python_module' '{module}' is not a Python module name");
        }

        if (port is { } p && p is < 1 or > 65535)
        {
            problems.Add($"'{P}default_port' {p} is not a port number (1 to 65535)");
        }

        var defaultPort = port is >= 1 and <= 65535 ? (int)port.Value : (int?)null;
        if (endpoint is not null && !EndpointAddress.TryParse(endpoint, defaultPort ?? 80, out _, out var endpointError))
        {
            problems.Add($"'{P}endpoint' '{endpoint}' is not valid: {endpointError}");
        }

        switch (method)
        {
            case ProbeMethod.Http when endpoint is null && variables.Length == 0:
                problems.Add($"'{P}method' http needs an 'endpoint' or 'endpoint_variables'");
                break;
            case ProbeMethod.Executable when executables.Length == 0:
                problems.Add($"'{P}method' executable needs 'executables' to look for on PATH");
                break;
            case ProbeMethod.PythonModule when module is null:
                problems.Add($"'{P}method' python needs 'python_module'");
                break;
        }

        return new ProviderHealthCheck
        {
            Method = method,
            Endpoint = endpoint,
            EndpointVariables = variables,
            DefaultPort = defaultPort,
            Path = path is null || path.StartsWith('/') ? path : "/" + path,
            ListProperty = ReadString(inner, "list_property", problems, P + "list_property"),
            Executables = method == ProbeMethod.PythonModule && executables.Length == 0 ? new[] { "python3", "python" } : executables,
            PythonModule = module,
        };
    }

    readonly record struct Entry(string Key, object? Value);

    /// <summary>Maps each key to its canonical name; unknown and duplicate keys become problems.</summary>
    static Dictionary<string, Entry> Normalize(IDictionary source, string prefix, Dictionary<string, string> aliases, List<string> problems)
    {
        var result = new Dictionary<string, Entry>();
        foreach (DictionaryEntry item in source)
        {
            var key = item.Key?.ToString() ?? "";
            var folded = new string(key.Where(c => c is not ('_' or '-' or ' ')).ToArray()).ToLowerInvariant();
            if (!aliases.TryGetValue(folded, out var canonical))
            {
                var allowed = prefix.Length == 0 ? AllowedKeys : aliases.Values.Distinct();
                problems.Add($"'{prefix}{key}' is not a known key (known: {string.Join(", ", allowed)})");
                continue;
            }

            if (result.ContainsKey(canonical))
            {
                problems.Add($"'{prefix}{canonical}' is given twice");
                continue;
            }

            result[canonical] = new Entry(key, Unwrap(item.Value));
        }

        return result;
    }

    static object? Unwrap(object? value) => value is JsonElement element ? FromJson(element) : value;

    static string? ReadString(Dictionary<string, Entry> entries, string key, List<string> problems, string? label = null)
    {
        if (!entries.TryGetValue(key, out var entry) || entry.Value is null)
        {
            return null;
        }

        if (entry.Value is string s)
        {
            return string.IsNullOrWhiteSpace(s) ? null : s.Trim();
        }

        problems.Add($"'{label ?? key}' must be a string, not {TypeName(entry.Value)}");
        return null;
    }

    static string[]? ReadStringList(Dictionary<string, Entry> entries, string key, List<string> problems, string? label = null)
    {
        if (!entries.TryGetValue(key, out var entry) || entry.Value is null)
        {
            return null;
        }

        switch (entry.Value)
        {
            case string s:
                // "gguf, ggml" as well as @('gguf','ggml').
                return s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            case IEnumerable list and not IDictionary:
                var result = new List<string>();
                foreach (var item in list)
                {
                    if (Unwrap(item) is string text && !string.IsNullOrWhiteSpace(text))
                    {
                        result.Add(text.Trim());
                    }
                    else
                    {
                        problems.Add($"'{label ?? key}' must contain only non-empty strings, not {TypeName(item)}");
                        return null;
                    }
                }

                return result.ToArray();
            default:
                problems.Add($"'{label ?? key}' must be a string or a list of strings, not {TypeName(entry.Value)}");
                return null;
        }
    }

    static IDictionary? ReadDictionary(Dictionary<string, Entry> entries, string key, List<string> problems)
    {
        if (!entries.TryGetValue(key, out var entry) || entry.Value is null)
        {
            return null;
        }

        if (entry.Value is IDictionary dictionary)
        {
            return dictionary;
        }

        problems.Add($"'{key}' must be a table of keys and values, not {TypeName(entry.Value)}");
        return null;
    }

    /// <summary>A non-negative whole number of bytes: a number, or a size text such as "10GB".</summary>
    static long? ReadBytes(Dictionary<string, Entry> entries, string key, List<string> problems, string? label = null)
    {
        if (!entries.TryGetValue(key, out var entry) || entry.Value is null)
        {
            return null;
        }

        long? value = entry.Value switch
        {
            byte or sbyte or short or ushort or int or uint or long => Convert.ToInt64(entry.Value, CultureInfo.InvariantCulture),
            ulong u when u <= long.MaxValue => (long)u,
            double or float or decimal when Convert.ToDouble(entry.Value, CultureInfo.InvariantCulture) is var d && d == Math.Floor(d) && Math.Abs(d) < 9e18 => (long)d,
            string s => ByteSize.TryParse(s),
            _ => null,
        };

        if (value is null)
        {
            problems.Add($"'{label ?? key}' must be a whole number of bytes or a size such as \"10GB\", not {Describe(entry.Value)}");
        }
        else if (value < 0)
        {
            problems.Add($"'{label ?? key}' must not be negative ({value})");
            value = null;
        }

        return value;
    }

    static string Describe(object value) => value is string s ? $"\"{s}\"" : TypeName(value);

    static string TypeName(object? value) => value switch
    {
        null => "null",
        string => "a string",
        bool => "a boolean",
        IDictionary => "a table",
        IEnumerable => "a list",
        _ => $"a {value.GetType().Name}",
    };

    /// <summary>JSON as plain CLR values: dictionaries, lists, strings, long/double, bool, null.</summary>
    static object? FromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Aggregate(new Hashtable(StringComparer.Ordinal), (table, p) =>
        {
            // A repeated JSON property is kept under a suffixed key so Normalize reports it instead of one silently winning.
            var name = table.ContainsKey(p.Name) ? p.Name + " " : p.Name;
            table[name] = FromJson(p.Value);
            return table;
        }),
        JsonValueKind.Array => element.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.TryGetInt64(out var l) ? l : element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    internal static ModelLibraryException Invalid(string? name, IReadOnlyList<string> problems, Exception? inner = null) =>
        Errors.InvalidProviderDefinition(name, problems,
            new[]
            {
                "Give at least a name and the supported formats, e.g. @{ Name = 'my-provider'; SupportedFormats = 'gguf' }.",
                $"Use only these keys: {string.Join(", ", AllowedKeys)}.",
            },
            inner);

    static void WriteArray(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    static void WriteString(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null)
        {
            w.WriteString(name, value);
        }
    }

    static void WriteNumber(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
    }
}
