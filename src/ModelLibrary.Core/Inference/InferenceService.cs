using System.Diagnostics;
using System.Globalization;
using ModelLibrary.Compatibility;
using ModelLibrary.Files;
using ModelLibrary.Formats;
using ModelLibrary.Library;
using ModelLibrary.Validation;

namespace ModelLibrary.Inference;

/// <summary>
/// Measure-LibraryModel: checks that a file is a whole GGUF model, runs it in the embedded engine, and measures load
/// time, tokens per second and peak memory. For a library model the measurement is stored with it in the registry
/// (its performance metrics), where <see cref="SpeedEstimator"/> finds it for later scores on this machine.
/// </summary>
public sealed class InferenceService
{
    /// <summary>Keys of the stored measurement in the model's performance metrics.</summary>
    public const string LoadSecondsKey = "measured_load_seconds";
    public const string PeakMemoryKey = "measured_peak_memory_bytes";
    public const string MeasuredAtKey = "measured_at";
    public const string EngineKey = "measured_engine";

    readonly ModelLibraryService? library;
    readonly Func<IInferenceEngine> engine;
    readonly IMachineResources machine;

    /// <param name="library">Where library models are looked up and measurements stored; null measures files only.</param>
    /// <param name="engine">Gives the engine on first use (loading the companion module then).</param>
    public InferenceService(ModelLibraryService? library, Func<IInferenceEngine> engine, IMachineResources? machine = null)
    {
        this.library = library;
        this.engine = engine;
        this.machine = machine ?? SystemMachineResources.Instance;
    }

    /// <summary>Measures the library model <paramref name="id"/> and stores the result with it.</summary>
    /// <exception cref="ModelLibraryException">ModelNotFound, ModelNotLocal, InvalidModelFile, InferenceEngineNotFound.</exception>
    public async Task<InferenceMeasurement> MeasureModelAsync(string id, InferenceRequest request, CancellationToken cancellationToken)
    {
        var service = library ?? throw new InvalidOperationException("No library to look the model up in.");
        var model = await service.GetAsync(id, cancellationToken).ConfigureAwait(false);
        var path = ModelFiles.EntryFile(LibraryModelTester.LocalFileOf(model));
        var measurement = Measure(path, request, model.Id, cancellationToken);

        service.Models.Update(model.Id, () => model.Clone(), row =>
        {
            var metrics = row.Metadata.PerformanceMetrics;
            metrics[SpeedEstimator.MeasuredTokensPerSecondKey] = Math.Round(measurement.TokensPerSecond, 2);
            metrics[SpeedEstimator.MeasuredOnKey] = measurement.MachineFingerprint;
            metrics[LoadSecondsKey] = Math.Round(measurement.LoadTime.TotalSeconds, 3);
            metrics[PeakMemoryKey] = measurement.PeakMemoryBytes;
            metrics[MeasuredAtKey] = measurement.MeasuredAt.ToString("o", CultureInfo.InvariantCulture);
            metrics[EngineKey] = measurement.Engine;
        });
        return Stored(measurement);
    }

    static InferenceMeasurement Stored(InferenceMeasurement m) => new()
    {
        ModelId = m.ModelId, Path = m.Path, Engine = m.Engine, LoadTime = m.LoadTime, PromptTokens = m.PromptTokens,
        TokensGenerated = m.TokensGenerated, TokensPerSecond = m.TokensPerSecond, PeakMemoryBytes = m.PeakMemoryBytes,
        ContextLength = m.ContextLength, Prompt = m.Prompt, Text = m.Text, MeasuredAt = m.MeasuredAt,
        MachineFingerprint = m.MachineFingerprint, Stored = true,
    };

    /// <summary>Measures any GGUF file; stores nothing.</summary>
    /// <exception cref="ModelLibraryException">InvalidModelFile, InferenceEngineNotFound.</exception>
    public InferenceMeasurement Measure(string path, InferenceRequest request, string? modelId, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        CheckRunnable(full, cancellationToken);
        var runner = engine();

        using var memory = PeakMemory.Start();
        InferenceRun run;
        try
        {
            run = runner.Run(full, request, cancellationToken);
        }
        catch (ModelLibraryException)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (Exception e)
        {
            // The header read, yet llama.cpp refused it (an unsupported architecture, bad tensor data...).
            throw Errors.InvalidModelFile(full, $"llama.cpp could not load or run it: {e.Message}", e);
        }

        var peak = memory.Stop();
        return new InferenceMeasurement
        {
            ModelId = modelId,
            Path = full,
            Engine = run.Engine,
            LoadTime = run.LoadTime,
            PromptTokens = run.PromptTokens,
            TokensGenerated = run.TokensGenerated,
            TokensPerSecond = run.GenerationTime > TimeSpan.Zero ? run.TokensGenerated / run.GenerationTime.TotalSeconds : 0,
            PeakMemoryBytes = peak,
            ContextLength = request.ContextLength,
            Prompt = request.Prompt,
            Text = run.Text,
            MeasuredAt = DateTimeOffset.UtcNow,
            MachineFingerprint = machine.Fingerprint ?? "",
        };
    }

    /// <summary>Only a whole GGUF file goes to llama.cpp: anything else would crash or hang it, not fail cleanly.</summary>
    static void CheckRunnable(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw Errors.InvalidModelFile(path, "the file does not exist");
        }

        var header = ModelFileInspector.Inspect(path, cancellationToken);
        if (header.Format != ModelFileFormat.Gguf)
        {
            throw Errors.InvalidModelFile(path,
                header.Format == ModelFileFormat.Unknown
                    ? "it is not a GGUF file (the embedded llama.cpp runs GGUF models only)"
                    : $"it is a {header.FormatName} file; the embedded llama.cpp runs GGUF models only");
        }

        if (header.TensorCount is null or 0)
        {
            throw Errors.InvalidModelFile(path, "it holds no tensors (a vocabulary-only GGUF file cannot generate text)");
        }

        if (header.ExpectedMinimumFileSize is { } minimum && header.FileSize < minimum)
        {
            throw Errors.InvalidModelFile(path, $"it has {header.FileSize} bytes, but its tensors need at least {minimum}: the file is truncated");
        }
    }

    /// <summary>
    /// The most resident memory the run added. On Linux the kernel's own peak (VmHWM), reset first through
    /// /proc/self/clear_refs; elsewhere (or when the reset is refused) the working set sampled every few milliseconds.
    /// </summary>
    sealed class PeakMemory : IDisposable
    {
        readonly long baseline;
        readonly bool kernelPeak;
        readonly Timer? sampler;
        long sampled;

        PeakMemory()
        {
            baseline = Resident();
            kernelPeak = OperatingSystem.IsLinux() && ResetKernelPeak();
            sampled = baseline;
            sampler = new Timer(_ => Sample(), null, 0, 5);
        }

        public static PeakMemory Start() => new();

        void Sample()
        {
            var now = Resident();
            long seen;
            while (now > (seen = Interlocked.Read(ref sampled)) && Interlocked.CompareExchange(ref sampled, now, seen) != seen)
            {
            }
        }

        public long Stop()
        {
            sampler?.Dispose();
            Sample();
            var peak = Interlocked.Read(ref sampled);
            if (kernelPeak && ReadStatus("VmHWM") is { } hwm)
            {
                peak = Math.Max(peak, hwm);
            }

            return Math.Max(0, peak - baseline);
        }

        public void Dispose() => sampler?.Dispose();

        static long Resident()
        {
            if (OperatingSystem.IsLinux() && ReadStatus("VmRSS") is { } rss)
            {
                return rss;
            }

            using var self = Process.GetCurrentProcess();
            return self.WorkingSet64;
        }

        static bool ResetKernelPeak()
        {
            try
            {
                // "5" resets the peak resident set size (Linux 4.0+).
                File.WriteAllText("/proc/self/clear_refs", "5");
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        static long? ReadStatus(string field)
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/self/status"))
                {
                    if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    {
                        var parts = line[(field.Length + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }

            return null;
        }
    }
}
