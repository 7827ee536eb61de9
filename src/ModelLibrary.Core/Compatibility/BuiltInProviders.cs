namespace ModelLibrary.Compatibility;

/// <summary>The providers that ship with the module.</summary>
public static class BuiltInProviders
{
    public const string LlamaCpp = "llama-cpp";
    public const string Transformers = "transformers";
    public const string Ollama = "ollama";
    public const string Vllm = "vllm";

    const long MiB = 1024L * 1024;
    const long GiB = 1024 * MiB;

    // Capabilities the catalog uses. Text generation and embeddings are alternatives: every one of these runtimes
    // serves embedding models too, and the catalog's embedding models do not claim text-generation.
    static readonly string[] GenerationOrEmbeddings = { "text-generation|embeddings" };

    public static ProviderCapabilities LlamaCppProvider { get; } = new()
    {
        Name = LlamaCpp,
        Description = "llama.cpp (llama-server / llama-cli): GGUF models on CPU or GPU.",
        BuiltIn = true,
        SupportedFormats = new[] { "gguf" },
        RequiredCapabilities = GenerationOrEmbeddings,
        OptionalCapabilities = new[] { "chat", "instruction-following", "code-generation", "reasoning", "vision" },
        MemoryRequirements = new() { Min = 1 * GiB },
        PerformanceCharacteristics = new() { InferenceType = "local", Optimization = "cpu_optimized", QuantizationSupport = "excellent" },
        ModelSizeLimits = new() { MinSize = null, MaxSize = null },
        // llama.cpp itself is small; the compute buffers for a few thousand tokens are the bulk of this.
        RuntimeOverhead = 256 * MiB,
        HealthCheck = new()
        {
            Method = ProbeMethod.Executable,
            Executables = new[] { "llama-server", "llama-cli" },
            EndpointVariables = new[] { "LLAMA_CPP_ENDPOINT" },
            DefaultPort = 8080,
            Path = "/health",
        },
    };

    public static ProviderCapabilities TransformersProvider { get; } = new()
    {
        Name = Transformers,
        Description = "Hugging Face transformers (Python): safetensors and PyTorch checkpoints.",
        BuiltIn = true,
        SupportedFormats = new[] { "safetensors", "pytorch" },
        RequiredCapabilities = GenerationOrEmbeddings,
        OptionalCapabilities = new[] { "chat", "instruction-following", "code-generation", "reasoning", "vision" },
        MemoryRequirements = new() { Min = 2 * GiB },
        PerformanceCharacteristics = new() { InferenceType = "local", Optimization = "gpu_optimized", QuantizationSupport = "limited" },
        // Python, torch and the tokenizer take about a gigabyte before any weights are loaded.
        RuntimeOverhead = 1 * GiB,
        HealthCheck = new()
        {
            Method = ProbeMethod.PythonModule,
            Executables = new[] { "python3", "python" },
            PythonModule = "transformers",
        },
    };

    public static ProviderCapabilities OllamaProvider { get; } = new()
    {
        Name = Ollama,
        Description = "Ollama server: GGUF models behind a local HTTP API.",
        BuiltIn = true,
        SupportedFormats = new[] { "gguf" },
        RequiredCapabilities = GenerationOrEmbeddings,
        OptionalCapabilities = new[] { "chat", "instruction-following", "code-generation", "reasoning", "vision" },
        MemoryRequirements = new() { Min = 1 * GiB },
        PerformanceCharacteristics = new() { InferenceType = "server", Optimization = "cpu_optimized", QuantizationSupport = "excellent" },
        // The server process plus llama.cpp's compute buffers.
        RuntimeOverhead = 512 * MiB,
        HealthCheck = new()
        {
            Method = ProbeMethod.Http,
            Endpoint = "http://127.0.0.1:11434",
            EndpointVariables = new[] { "OLLAMA_HOST" },
            DefaultPort = 11434,
            Path = "/api/tags",
            ListProperty = "models",
        },
    };

    public static ProviderCapabilities VllmProvider { get; } = new()
    {
        Name = Vllm,
        Description = "vLLM OpenAI-compatible server: safetensors models, high-throughput serving.",
        BuiltIn = true,
        SupportedFormats = new[] { "safetensors" },
        RequiredCapabilities = GenerationOrEmbeddings,
        OptionalCapabilities = new[] { "chat", "instruction-following", "code-generation", "reasoning", "vision" },
        MemoryRequirements = new() { Min = 8 * GiB },
        PerformanceCharacteristics = new() { InferenceType = "server", Optimization = "gpu_optimized", QuantizationSupport = "good" },
        // Python, torch, CUDA graphs and the server: vLLM is the heaviest runtime here.
        RuntimeOverhead = 2 * GiB,
        HealthCheck = new()
        {
            Method = ProbeMethod.Http,
            Endpoint = "http://127.0.0.1:8000",
            EndpointVariables = new[] { "VLLM_ENDPOINT", "VLLM_HOST" },
            DefaultPort = 8000,
            Path = "/v1/models",
            ListProperty = "data",
        },
    };

    /// <summary>The built-ins in their display order.</summary>
    public static IReadOnlyList<ProviderCapabilities> All { get; } = new[] { LlamaCppProvider, TransformersProvider, OllamaProvider, VllmProvider };

    public static bool IsBuiltIn(string name) => All.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}
