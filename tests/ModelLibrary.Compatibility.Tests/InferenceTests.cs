using System.Collections;
using ModelLibrary.Configuration;
using ModelLibrary.Inference;
using ModelLibrary.Library;

namespace ModelLibrary.Compatibility.Tests;

/// <summary>
/// The embedded llama.cpp (LLamaSharp 0.30.0, CPU) on the real stories260K.gguf fixture (tests/fixtures/MANIFEST.md),
/// loaded from the engine's own build folder exactly as Measure-LibraryModel loads it. Nothing is downloaded.
/// </summary>
public class InferenceTests
{
    static IInferenceEngine Engine() => InferenceEngineLoader.Load(RepositoryFiles.InferenceEngineFolder());

    static string Stories => RepositoryFiles.Fixture("gguf", "stories260K.gguf");

    static readonly InferenceRequest Request = new() { Prompt = "Once upon a time", MaxTokens = 8, ContextLength = 128, Threads = 1 };

    [Fact]
    public void The_fixture_runs_and_every_number_is_positive()
    {
        var service = new InferenceService(null, Engine);
        var measurement = service.Measure(Stories, Request, null, CancellationToken.None);

        Assert.Equal(8, measurement.TokensGenerated);
        Assert.True(measurement.PromptTokens > 0);
        Assert.False(string.IsNullOrWhiteSpace(measurement.Text));
        Assert.True(measurement.TokensPerSecond > 0);
        Assert.True(measurement.LoadTime > TimeSpan.Zero);
        Assert.True(measurement.PeakMemoryBytes > 0);
        Assert.StartsWith("llama.cpp (LLamaSharp 0.30.0", measurement.Engine);
        Assert.Equal(Path.GetFullPath(Stories), measurement.Path);
        Assert.False(measurement.Stored);
    }

    [Fact]
    public void Not_gguf_vocabulary_only_and_truncated_files_are_InvalidModelFile_before_llama_cpp_sees_them()
    {
        var calls = 0;
        var service = new InferenceService(null, () => { calls++; return Engine(); });
        using var folder = new TempFolder();

        var text = folder.File("notes.gguf");
        File.WriteAllText(text, "not a model");
        var truncated = folder.File("stories-truncated.gguf");
        var bytes = File.ReadAllBytes(Stories);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        foreach (var path in new[] { text, truncated, RepositoryFiles.Fixture("gguf", "ggml-vocab-gpt-2.gguf"), RepositoryFiles.Fixture("safetensors", "model.safetensors") })
        {
            var error = Assert.ThrowsAny<ModelLibraryException>(() => service.Measure(path, Request, null, CancellationToken.None));
            Assert.Equal(ErrorIds.InvalidModelFile, error.ErrorId);
        }

        Assert.Equal(0, calls);
    }

    [Fact]
    public async Task A_library_model_keeps_its_measurement_and_later_scores_use_it()
    {
        using var root = new TempFolder();
        var configuration = LibraryConfiguration.FromEnvironment(new Hashtable { ["MODELS_DIR"] = root.Path });
        using var http = new HttpClient();
        var library = new ModelLibraryService(configuration, http);
        var importer = new ModelImporter(library);
        var plan = await importer.PlanAsync(new ImportRequest { Path = Stories, Id = "stories260k", Provider = "llama-cpp" }, CancellationToken.None);
        var imported = await importer.ImportAsync(plan, CancellationToken.None);
        Assert.Equal(ModelStatus.Local, imported.Status);

        var machine = new FixedMachineResources(16L << 30, 8L << 30, 2, 100L << 30) { MemoryBandwidth = 10e9, Fingerprint = "test-machine" };
        var measurement = await new InferenceService(library, Engine, machine).MeasureModelAsync("stories260k", Request, CancellationToken.None);
        Assert.True(measurement.Stored);
        Assert.Equal("stories260k", measurement.ModelId);

        var model = await library.GetAsync("stories260k", CancellationToken.None);
        var metrics = model.Metadata.PerformanceMetrics;
        Assert.Equal("test-machine", metrics[SpeedEstimator.MeasuredOnKey]?.ToString());
        Assert.True(Convert.ToDouble(metrics[SpeedEstimator.MeasuredTokensPerSecondKey]) > 0);

        var compatibility = new CompatibilityService(library.ProviderRegistry, machine, configuration)
            .CheckCompatibility(model, "llama-cpp", new[] { model });
        Assert.True(compatibility.Requirements.Speed.Measured);
        Assert.Equal(Math.Round(measurement.TokensPerSecond, 1), compatibility.Requirements.TokensPerSecond!.Value, 0);
    }
}
