using ModelLibrary.Catalog;
using ModelLibrary.Library;
using ModelLibrary.Sources.Stores;
using ModelLibrary.Tests.Validation;

namespace ModelLibrary.Tests.Sources;

/// <summary>
/// A model of another tool's store that the library learnt something about (a registry row: a measurement, metadata)
/// stays that tool's: listed where the store says, and never removable by the library (ExternalStore).
/// </summary>
public class ExternalStoreRowTests
{
    [Fact]
    public async Task A_row_of_its_own_does_not_make_a_store_model_the_librarys()
    {
        using var lib = new TestLibrary();
        // A store written by the library's own export, as Ollama lays it out (covered in OllamaExportTests).
        lib.CopyFixture("gguf/stories260K.gguf", "llama-cpp/stories260k.gguf");
        var exporter = new ModelExporter(lib.Service);
        var root = Path.Combine(lib.Outside, "ollama");
        await exporter.ExportAsync(await exporter.PlanAsync("stories260k", ModelExporter.Ollama, root, "stories:latest", CancellationToken.None), false, CancellationToken.None);
        lib.Service.Catalog.Register("ollama", root, ModelCatalog.OllamaStoreType, false, false);
        lib.Service.InvalidateCatalog();

        var model = await lib.Service.GetAsync("stories:latest", CancellationToken.None);
        Assert.Equal("Ollama", model.ExternalStore);
        // As Measure-LibraryModel records a measurement: a row made from the model as it was found.
        lib.Service.Models.Update(model.Id, () => model.Clone(), row => row.Metadata.PerformanceMetrics["measured_tokens_per_second"] = 12.5);

        var again = await lib.Service.GetAsync("stories:latest", CancellationToken.None);
        Assert.Equal("Ollama", again.ExternalStore);
        Assert.Equal(model.LocalPath, again.LocalPath);
        var refused = Assert.Throws<ModelLibraryException>(() => lib.Service.PathsToRemove(again));
        Assert.Equal(ErrorIds.ExternalStore, refused.ErrorId);
        Assert.True(File.Exists(model.LocalPath));

        // A row that says Error with no file (a download of that id that failed here) does not hide the store's file.
        lib.Service.Models.Update(model.Id, () => model.Clone(), row =>
        {
            row.Status = ModelStatus.Error;
            row.LocalPath = null;
            row.StatusMessage = "A download failed.";
        });
        var listed = await lib.Service.GetAsync("stories:latest", CancellationToken.None);
        Assert.Equal(ModelStatus.Local, listed.Status);
        Assert.Equal(model.LocalPath, listed.LocalPath);
        Assert.Equal("Ollama", listed.ExternalStore);
    }
}
