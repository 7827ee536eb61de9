namespace ModelLibrary;

/// <summary>
/// What a provider (an inference runtime) can load and what it needs: the seed's <c>ProviderCapabilities</c>
/// as data, plus how to check that the runtime is present. Built-in providers and registered ones share this shape.
/// </summary>
public sealed class ProviderCapabilities
{
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    /// <summary>True for the providers that ship with the module (and are not overridden by a registration).</summary>
    public bool BuiltIn { get; init; }
    /// <summary>Model file formats the runtime can load, lower case (<c>gguf</c>, <c>safetensors</c>, ...).</summary>
    public string[] SupportedFormats { get; init; } = Array.Empty<string>();
    /// <summary>
    /// Capabilities a model must have for this provider to serve it. Each entry must be met; an entry may list
    /// alternatives separated by <c>|</c> (<c>text-generation|embeddings</c>: either will do).
    /// </summary>
    public string[] RequiredCapabilities { get; init; } = Array.Empty<string>();
    /// <summary>Further capabilities the provider can make use of when a model has them.</summary>
    public string[] OptionalCapabilities { get; init; } = Array.Empty<string>();
    public ProviderMemoryRequirements MemoryRequirements { get; init; } = new();
    public PerformanceCharacteristics PerformanceCharacteristics { get; init; } = new();
    public ModelSizeLimits ModelSizeLimits { get; init; } = new();
    /// <summary>Memory the runtime itself takes besides the model (process, compute buffers), in bytes.</summary>
    public long RuntimeOverhead { get; init; }
    public ProviderHealthCheck HealthCheck { get; init; } = new();

    public bool SupportsFormat(string? format) =>
        format is not null && SupportedFormats.Contains(format, StringComparer.OrdinalIgnoreCase);

    public override string ToString() => Name;
}

/// <summary>The seed's <c>memory_requirements</c>: the least memory a machine needs to run the provider at all.</summary>
public sealed class ProviderMemoryRequirements
{
    /// <summary>Minimum total RAM in bytes, or null for no stated minimum.</summary>
    public long? Min { get; init; }
}

/// <summary>The seed's <c>performance_characteristics</c>; descriptive only, not scored.</summary>
public sealed class PerformanceCharacteristics
{
    /// <summary><c>local</c> or <c>server</c>.</summary>
    public string? InferenceType { get; init; }
    /// <summary>e.g. <c>cpu_optimized</c>, <c>gpu_optimized</c>.</summary>
    public string? Optimization { get; init; }
    /// <summary>e.g. <c>excellent</c>, <c>good</c>, <c>limited</c>.</summary>
    public string? QuantizationSupport { get; init; }
}

/// <summary>The seed's <c>model_size_limits</c>: model file sizes the provider handles, in bytes.</summary>
public sealed class ModelSizeLimits
{
    public long? MinSize { get; init; }
    public long? MaxSize { get; init; }

    public bool Contains(long size) => (MinSize is null || size >= MinSize) && (MaxSize is null || size <= MaxSize);
}

/// <summary>How a provider's health is checked.</summary>
public enum ProbeMethod
{
    /// <summary>No check is defined; the provider is never reported healthy.</summary>
    None,
    /// <summary>An HTTP GET to the provider's endpoint must answer 2xx (and, if stated, the expected JSON list).</summary>
    Http,
    /// <summary>One of the provider's executables must be on PATH; a configured endpoint is tried first.</summary>
    Executable,
    /// <summary>A Python on PATH must be able to import the provider's module.</summary>
    PythonModule,
}

/// <summary>The recipe for checking a provider; the probe reads endpoints from the environment at check time.</summary>
public sealed class ProviderHealthCheck
{
    public ProbeMethod Method { get; init; } = ProbeMethod.None;
    /// <summary>Endpoint used when none of <see cref="EndpointVariables"/> is set (e.g. <c>http://127.0.0.1:11434</c>).</summary>
    public string? Endpoint { get; init; }
    /// <summary>Environment variables that name the endpoint, first set wins; values may be <c>host:port</c>.</summary>
    public string[] EndpointVariables { get; init; } = Array.Empty<string>();
    /// <summary>Port assumed when an endpoint variable gives a host without scheme or port.</summary>
    public int? DefaultPort { get; init; }
    /// <summary>Path requested on the endpoint, e.g. <c>/api/tags</c>.</summary>
    public string? Path { get; init; }
    /// <summary>When set, the answer must be a JSON object with an array in this property (Ollama <c>models</c>, OpenAI <c>data</c>).</summary>
    public string? ListProperty { get; init; }
    /// <summary>Executables looked for on PATH (for <see cref="ProbeMethod.Executable"/>) or Python interpreters (for <see cref="ProbeMethod.PythonModule"/>).</summary>
    public string[] Executables { get; init; } = Array.Empty<string>();
    /// <summary>Module a Python must import.</summary>
    public string? PythonModule { get; init; }

    /// <summary>A stable text of the recipe, so a cached result is not reused after the recipe changes.</summary>
    internal string CacheKey =>
        string.Join("|", Method, Endpoint, string.Join(",", EndpointVariables), DefaultPort, Path, ListProperty, string.Join(",", Executables), PythonModule);
}
