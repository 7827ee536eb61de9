using System.Diagnostics;
using System.Text;
using LLama;
using LLama.Common;
using LLama.Native;
using LLama.Sampling;

namespace ModelLibrary.Inference;

/// <summary>The embedded llama.cpp (LLamaSharp 0.30.0, CPU backend): loads a GGUF model, generates a few tokens greedily, unloads.</summary>
public sealed class LlamaSharpEngine : IInferenceEngine
{
    readonly string folder;
    static readonly object LogGate = new();
    static bool logConfigured;

    /// <param name="folder">The companion module's folder (holding runtimes/).</param>
    public LlamaSharpEngine(string folder)
    {
        this.folder = folder;
        LlamaNativeLibrary.Configure(folder);
        lock (LogGate)
        {
            if (!logConfigured)
            {
                // llama.cpp logs every tensor to stderr by default; a measurement should print nothing of its own.
                NativeLogConfig.llama_log_set((_, _) => { });
                logConfigured = true;
            }
        }
    }

    public InferenceRun Run(string path, InferenceRequest request, CancellationToken cancellationToken)
    {
        var parameters = new ModelParams(path)
        {
            ContextSize = (uint)Math.Max(64, request.ContextLength),
            GpuLayerCount = 0,
            Threads = request.Threads ?? Math.Max(1, Environment.ProcessorCount),
            BatchSize = 512,
        };

        var load = Stopwatch.StartNew();
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        load.Stop();

        var executor = new InstructExecutorless(context);
        return executor.Generate(request, load.Elapsed, Describe(), cancellationToken);
    }

    string Describe() => $"llama.cpp (LLamaSharp 0.30.0, {Path.GetFileName(LlamaNativeLibrary.Folder ?? folder)})";

    /// <summary>Prompt → greedy tokens, timed after the prompt is processed so tokens/s is generation speed.</summary>
    sealed class InstructExecutorless
    {
        readonly LLamaContext context;

        public InstructExecutorless(LLamaContext context) => this.context = context;

        public InferenceRun Generate(InferenceRequest request, TimeSpan loadTime, string engine, CancellationToken cancellationToken)
        {
            var prompt = context.Tokenize(request.Prompt, addBos: true, special: true);
            var batch = new LLamaBatch();
            for (var i = 0; i < prompt.Length; i++)
            {
                batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
            }

            if (context.Decode(batch) != DecodeResult.Ok)
            {
                throw new InvalidOperationException("llama.cpp could not process the prompt.");
            }

            using var sampler = new DefaultSamplingPipeline { Temperature = 0 };
            var decoder = new StreamingTokenDecoder(context);
            var text = new StringBuilder();
            var position = prompt.Length;
            var generated = 0;
            var eog = context.Vocab;
            var watch = Stopwatch.StartNew();
            while (generated < request.MaxTokens && position < context.ContextSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var token = sampler.Sample(context.NativeHandle, batch.TokenCount - 1);
                sampler.Accept(token);
                generated++;
                if (token.IsEndOfGeneration(eog))
                {
                    break;
                }

                decoder.Add(token);
                text.Append(decoder.Read());
                batch.Clear();
                batch.Add(token, position++, LLamaSeqId.Zero, true);
                if (context.Decode(batch) != DecodeResult.Ok)
                {
                    throw new InvalidOperationException("llama.cpp could not decode a generated token.");
                }
            }

            watch.Stop();
            return new InferenceRun
            {
                LoadTime = loadTime,
                PromptTokens = prompt.Length,
                TokensGenerated = generated,
                GenerationTime = watch.Elapsed,
                Text = text.ToString(),
                Engine = engine,
            };
        }
    }
}
