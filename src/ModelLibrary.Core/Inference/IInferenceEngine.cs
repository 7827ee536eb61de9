namespace ModelLibrary.Inference;

/// <summary>What to run: a short prompt, a few tokens, a small context.</summary>
public sealed class InferenceRequest
{
    public string Prompt { get; init; } = "Once upon a time";
    public int MaxTokens { get; init; } = 16;
    public int ContextLength { get; init; } = 512;
    /// <summary>CPU threads; null: the engine's default (the cores there are).</summary>
    public int? Threads { get; init; }
}

/// <summary>What the engine saw while loading and generating.</summary>
public sealed class InferenceRun
{
    public TimeSpan LoadTime { get; init; }
    public int PromptTokens { get; init; }
    public int TokensGenerated { get; init; }
    /// <summary>Time from the first generated token's request to the last one.</summary>
    public TimeSpan GenerationTime { get; init; }
    public string Text { get; init; } = "";
    /// <summary>E.g. "llama.cpp (LLamaSharp 0.30.0, avx2)".</summary>
    public string Engine { get; init; } = "";
}

/// <summary>
/// An embedded runtime that loads a model file and generates tokens. The implementation (llama.cpp through
/// LLamaSharp) lives in the companion module ModelLibrary.Inference, loaded on first use by <see cref="InferenceEngineLoader"/>,
/// so the module's import stays small and fast.
/// </summary>
public interface IInferenceEngine
{
    /// <summary>Loads <paramref name="path"/> (a validated GGUF file), generates, unloads.</summary>
    InferenceRun Run(string path, InferenceRequest request, CancellationToken cancellationToken);
}
