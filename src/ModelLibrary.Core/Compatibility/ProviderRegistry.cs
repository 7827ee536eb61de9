using System.Collections;

namespace ModelLibrary.Compatibility;

/// <summary>
/// The providers known to the library: the built-ins plus those registered (kept in an
/// <see cref="IProviderDefinitionStore"/>). A registration with a built-in's name replaces the built-in, but only
/// when forced; so does re-registering an existing name.
/// </summary>
public sealed class ProviderRegistry
{
    readonly IProviderDefinitionStore store;
    readonly object gate = new();

    public ProviderRegistry(IProviderDefinitionStore store)
    {
        this.store = store ?? throw new ArgumentNullException(nameof(store));
    }

    /// <summary>Problems met reading stored definitions during the last <see cref="List"/> (such definitions are skipped).</summary>
    public IReadOnlyList<string> Warnings { get; private set; } = Array.Empty<string>();

    /// <summary>Built-ins first (in their order, unless overridden), then registered providers by name.</summary>
    public IReadOnlyList<ProviderCapabilities> List()
    {
        var warnings = new List<string>();
        var registered = new Dictionary<string, ProviderCapabilities>(StringComparer.OrdinalIgnoreCase);
        foreach (var stored in store.List())
        {
            try
            {
                var provider = ProviderDefinition.ParseJson(stored.Json);
                registered[provider.Name] = provider;
            }
            catch (ModelLibraryException e)
            {
                warnings.Add($"The stored provider '{stored.Name}' was skipped: {e.Message}");
            }
        }

        Warnings = warnings;
        var result = BuiltInProviders.All.Select(b => registered.Remove(b.Name, out var over) ? over : b).ToList();
        result.AddRange(registered.Values.OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase));
        return result;
    }

    public bool TryGet(string name, out ProviderCapabilities provider)
    {
        provider = null!;
        if (string.IsNullOrWhiteSpace(name))
        {
            return false;
        }

        if (store.Get(name.Trim()) is { } stored)
        {
            try
            {
                provider = ProviderDefinition.ParseJson(stored.Json);
                return true;
            }
            catch (ModelLibraryException)
            {
                // A broken stored override falls back to the built-in, if any.
            }
        }

        var builtIn = BuiltInProviders.All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));
        provider = builtIn!;
        return builtIn is not null;
    }

    /// <exception cref="ModelLibraryException">ProviderNotFound.</exception>
    public ProviderCapabilities Get(string name) =>
        TryGet(name, out var provider) ? provider : throw NotFound(name, List());

    /// <summary>Registers a definition given as a dictionary (e.g. a PowerShell hashtable).</summary>
    public ProviderCapabilities Register(IDictionary definition, bool force = false) => Register(ProviderDefinition.Parse(definition), force);

    /// <summary>Registers a definition given as a JSON object.</summary>
    public ProviderCapabilities RegisterJson(string json, bool force = false) => Register(ProviderDefinition.ParseJson(json), force);

    /// <summary>Registers the JSON definition in a file.</summary>
    public ProviderCapabilities RegisterFile(string path, bool force = false) => Register(ProviderDefinition.ReadFile(path), force);

    /// <summary>True when registering this name needs Force: it is a built-in or already registered.</summary>
    public bool Exists(string name) => BuiltInProviders.IsBuiltIn(name) || store.Get(name.Trim()) is not null;

    /// <summary>Removes a registration; a built-in it overrode comes back. Built-ins themselves cannot be removed.</summary>
    /// <exception cref="ModelLibraryException">ProviderNotFound, or InvalidProviderDefinition for a built-in.</exception>
    public void Unregister(string name)
    {
        lock (gate)
        {
            if (store.Remove(name.Trim()))
            {
                return;
            }

            if (BuiltInProviders.IsBuiltIn(name))
            {
                throw Errors.BuiltInProviderFixed(name);
            }

            throw NotFound(name, List());
        }
    }

    /// <summary>
    /// Registers a definition already read by <see cref="ProviderDefinition"/> (callers that parse first, e.g. to
    /// confirm with the user before anything changes).
    /// </summary>
    /// <exception cref="ModelLibraryException">ProviderExists when the name is taken and <paramref name="force"/> is not set.</exception>
    public ProviderCapabilities Register(ProviderCapabilities provider, bool force = false)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (gate)
        {
            var builtIn = BuiltInProviders.IsBuiltIn(provider.Name);
            var existing = store.Get(provider.Name);
            if (!force && (builtIn || existing is not null))
            {
                throw Errors.ProviderExists(provider.Name, builtIn);
            }

            // Keep the stored name exactly as a built-in spells it, so the override lines up with it.
            var canonical = builtIn ? BuiltInProviders.All.First(b => string.Equals(b.Name, provider.Name, StringComparison.OrdinalIgnoreCase)).Name : provider.Name;
            var saved = new ProviderCapabilities
            {
                Name = canonical,
                Description = provider.Description,
                BuiltIn = false,
                SupportedFormats = provider.SupportedFormats,
                RequiredCapabilities = provider.RequiredCapabilities,
                OptionalCapabilities = provider.OptionalCapabilities,
                MemoryRequirements = provider.MemoryRequirements,
                PerformanceCharacteristics = provider.PerformanceCharacteristics,
                ModelSizeLimits = provider.ModelSizeLimits,
                RuntimeOverhead = provider.RuntimeOverhead,
                HealthCheck = provider.HealthCheck,
            };
            if (existing is not null && existing.Name != canonical)
            {
                store.Remove(existing.Name);
            }

            store.Save(new StoredProviderDefinition(canonical, ProviderDefinition.ToJson(saved)));
            return saved;
        }
    }

    /// <summary>The ProviderNotFound error for <paramref name="name"/>, listing the known providers.</summary>
    public ModelLibraryException NotFound(string name) => NotFound(name, List());

    static ModelLibraryException NotFound(string name, IReadOnlyList<ProviderCapabilities> known) =>
        Errors.ProviderNotFound(name, known.Select(p => p.Name));
}
