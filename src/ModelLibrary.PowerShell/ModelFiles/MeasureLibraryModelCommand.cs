using System.Management.Automation;
using ModelLibrary.Inference;
using ModelLibrary.PowerShell.Infrastructure;

namespace ModelLibrary.PowerShell.ModelFiles;

/// <summary>
/// Loads a GGUF model in the embedded llama.cpp (the companion module ModelLibrary.Inference, loaded on first use),
/// generates a few tokens and reports load time, tokens per second and peak memory. For a library model the
/// measurement is stored with it, and later compatibility scores on this machine use it instead of the estimate.
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "LibraryModel", DefaultParameterSetName = IdSet)]
[OutputType(typeof(InferenceMeasurement))]
public sealed class MeasureLibraryModelCommand : ModelOrFileCmdlet
{
    InferenceService? inference;

    /// <summary>The text the model continues.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Prompt { get; set; } = "Once upon a time";

    /// <summary>Tokens to generate (1 to 1024).</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int MaxTokens { get; set; } = 16;

    /// <summary>Tokens of context to allocate (64 to 131072).</summary>
    [Parameter]
    [ValidateRange(64, 131072)]
    public int ContextLength { get; set; } = 512;

    protected override void ProcessRecord()
    {
        inference ??= new InferenceService(Service, LoadEngine);
        var request = new InferenceRequest { Prompt = Prompt, MaxTokens = MaxTokens, ContextLength = ContextLength };
        if (ParameterSetName == IdSet)
        {
            foreach (var id in Id)
            {
                if (ExistingPathInsteadOf(id) is { } file)
                {
                    MeasureFile(file, request);
                    continue;
                }

                Guard(() =>
                {
                    Progress(id);
                    WriteObject(Run(ct => inference.MeasureModelAsync(id, request, ct)));
                }, id);
            }
        }
        else
        {
            foreach (var path in Path.SelectMany(p => FileSystemPaths.Resolve(this, p)))
            {
                MeasureFile(path, request);
            }
        }

        WriteProgress(new ProgressRecord(1, "Measuring models", "Done") { RecordType = ProgressRecordType.Completed });
    }

    void MeasureFile(string path, InferenceRequest request) => Guard(() =>
    {
        Progress(path);
        WriteObject(Run(ct => Task.Run(() => inference!.Measure(path, request, null, ct), ct)));
    }, path);

    void Progress(string what) =>
        WriteProgress(new ProgressRecord(1, "Measuring models", $"Loading {what} in llama.cpp and generating {MaxTokens} tokens"));

    IInferenceEngine LoadEngine()
    {
        var moduleBase = System.IO.Path.GetDirectoryName(typeof(MeasureLibraryModelCommand).Assembly.Location);
        var candidates = InferenceEngineLoader.Candidates(moduleBase, Environment.GetEnvironmentVariable("PSModulePath")).ToList();
        var folder = InferenceEngineLoader.Find(candidates);
        if (folder is not null)
        {
            WriteVerboseLater($"Loading the inference engine from '{folder}'.");
        }

        return InferenceEngineLoader.Load(folder ?? (candidates.Count > 0 ? System.IO.Path.GetFullPath(candidates[0]) : null));
    }

    // The engine loads on a worker thread (inside Run); verbose output must wait for the pipeline thread.
    readonly List<string> pendingVerbose = new();

    void WriteVerboseLater(string message)
    {
        lock (pendingVerbose)
        {
            pendingVerbose.Add(message);
        }
    }

    protected override void EndProcessing()
    {
        lock (pendingVerbose)
        {
            foreach (var message in pendingVerbose)
            {
                WriteVerbose(message);
            }
        }
    }
}
