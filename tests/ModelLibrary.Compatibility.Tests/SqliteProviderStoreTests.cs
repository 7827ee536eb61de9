using System.Collections;
using ModelLibrary.Library;
using ModelLibrary.Registry;
using static ModelLibrary.Compatibility.Tests.TestData;

namespace ModelLibrary.Compatibility.Tests;

/// <summary>The registry database's <c>providers</c> table as the provider registry's store.</summary>
public sealed class SqliteProviderStoreTests : IDisposable
{
    readonly TempDirectory dir = new();

    string DatabasePath => Path.Combine(dir.Path, "registry.db");

    ProviderStore NewStore() => new(new RegistryDatabase(DatabasePath));

    public void Dispose()
    {
        // Pooled SQLite handles would keep the file open and the folder from being deleted.
        RegistryDatabase.ReleaseAll();
        dir.Dispose();
    }

    [Fact]
    public void Saves_lists_gets_and_removes()
    {
        var store = NewStore();
        Assert.Empty(store.List());
        Assert.Null(store.Get("alpha"));

        store.Save(new StoredProviderDefinition("alpha", """{"name": "alpha", "supported_formats": ["gguf"]}"""));
        store.Save(new StoredProviderDefinition("beta", """{"name": "beta", "supported_formats": ["onnx"]}"""));

        Assert.Equal(new[] { "alpha", "beta" }, store.List().Select(d => d.Name));
        Assert.Contains("onnx", store.Get("beta")!.Json);

        store.Save(new StoredProviderDefinition("alpha", """{"name": "alpha", "supported_formats": ["ggml"]}"""));
        Assert.Equal(2, store.List().Count);
        Assert.Contains("ggml", store.Get("alpha")!.Json);

        Assert.True(store.Remove("alpha"));
        Assert.False(store.Remove("alpha"));
        Assert.Equal(new[] { "beta" }, store.List().Select(d => d.Name));
    }

    [Fact]
    public void Names_are_case_insensitive_and_the_latest_spelling_is_kept()
    {
        var store = NewStore();
        store.Save(new StoredProviderDefinition("my-runtime", """{"name": "my-runtime", "supported_formats": ["gguf"]}"""));

        Assert.Equal("my-runtime", store.Get("MY-RUNTIME")!.Name);

        store.Save(new StoredProviderDefinition("My-Runtime", """{"name": "My-Runtime", "supported_formats": ["ggml"]}"""));
        var only = Assert.Single(store.List());
        Assert.Equal("My-Runtime", only.Name);
        Assert.Contains("ggml", only.Json);

        Assert.True(store.Remove("my-RUNTIME"));
        Assert.Empty(store.List());
    }

    [Fact]
    public void Registrations_persist_across_store_and_database_instances()
    {
        var registered = new ProviderRegistry(NewStore()).Register(new Hashtable
        {
            ["Name"] = "persisted",
            ["SupportedFormats"] = new object[] { "gguf" },
            ["MemoryRequirements"] = new Hashtable { ["Min"] = "3GB" },
            ["HealthCheck"] = new Hashtable { ["Endpoint"] = "127.0.0.1:9000", ["Path"] = "/health" },
        });

        // As a new pwsh would: a fresh database object, store and registry over the same file.
        RegistryDatabase.ReleaseAll();
        var again = new ProviderRegistry(NewStore());
        var provider = again.Get("PERSISTED");
        Assert.Equal("persisted", provider.Name);
        Assert.Equal(3 * GiB, provider.MemoryRequirements.Min);
        Assert.Equal(registered.HealthCheck.Endpoint, provider.HealthCheck.Endpoint);
        Assert.Equal("persisted", again.List()[^1].Name);

        again.Unregister("Persisted");
        Assert.False(new ProviderRegistry(NewStore()).TryGet("persisted", out _));
    }

    [Fact]
    public void A_forced_override_of_a_builtin_persists_and_unregistering_restores_the_builtin()
    {
        var registry = new ProviderRegistry(NewStore());
        var error = Assert.Throws<ModelLibraryException>(() => registry.RegisterJson("""{"name": "Ollama", "supported_formats": ["gguf", "safetensors"]}"""));
        Assert.Equal(ErrorIds.ProviderExists, error.ErrorId);

        registry.RegisterJson("""{"name": "Ollama", "supported_formats": ["gguf", "safetensors"]}""", force: true);
        var stored = Assert.Single(NewStore().List());
        Assert.Equal("ollama", stored.Name);
        Assert.Equal(new[] { "gguf", "safetensors" }, new ProviderRegistry(NewStore()).Get("ollama").SupportedFormats);

        registry.Unregister("OLLAMA");
        Assert.True(new ProviderRegistry(NewStore()).Get("ollama").BuiltIn);
    }

    [Fact]
    public void The_library_service_serves_registry_compatibility_and_a_registry_check_over_its_own_database()
    {
        var configuration = LibraryConfig(dir.Path);
        using var http = new HttpClient();
        var service = new ModelLibraryService(configuration, http);
        service.ProviderRegistry.RegisterJson("""{"name": "tiny-runtime", "supported_formats": ["gguf"], "model_size_limits": {"max_size": "1GB"}}""");
        Assert.Same(service.ProviderRegistry, service.Compatibility.Providers);

        // Another service over the same library (another session) sees the registration.
        var other = new ModelLibraryService(configuration, http);
        var model = Gguf("tinyllama-1.1b-chat-q8", quantization: "Q8_0", size: 1170781568);
        var result = other.Compatibility.CheckCompatibility(model, "TINY-RUNTIME", new[] { model });
        Assert.False(result.Compatible);
        Assert.Contains(result.Reasons, r => r.Contains("size", StringComparison.OrdinalIgnoreCase));
        // The disk factor is measured on the provider's own folder under the library root.
        Assert.Equal(configuration.ProviderDirectory("tiny-runtime"), result.Requirements.DiskPath);

        var description = RegistryHealth.Describe(other.Database);
        Assert.Contains($"schema version {RegistryDatabase.CurrentSchemaVersion}", description);
        Assert.Contains("1 providers", description);
    }
}
