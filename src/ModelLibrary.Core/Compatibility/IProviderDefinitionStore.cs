using System.Collections.Concurrent;

namespace ModelLibrary.Compatibility;

/// <summary>A registered provider as stored: its name and its definition as JSON (the canonical form ProviderDefinition.ToJson writes).</summary>
public sealed record StoredProviderDefinition(string Name, string Json);

/// <summary>
/// Where registered provider definitions persist. The registry database implements it (a table keyed by name,
/// case-insensitive); <see cref="InMemoryProviderDefinitionStore"/> serves tests and sessions without one.
/// Implementations must be safe to call from several threads.
/// </summary>
public interface IProviderDefinitionStore
{
    /// <summary>Every stored definition, in any order.</summary>
    IReadOnlyList<StoredProviderDefinition> List();
    /// <summary>The definition with this name (case-insensitive), or null.</summary>
    StoredProviderDefinition? Get(string name);
    /// <summary>Inserts or replaces the definition with this name (case-insensitive).</summary>
    void Save(StoredProviderDefinition definition);
    /// <summary>Removes the definition; false when there was none.</summary>
    bool Remove(string name);
}

public sealed class InMemoryProviderDefinitionStore : IProviderDefinitionStore
{
    readonly ConcurrentDictionary<string, StoredProviderDefinition> definitions = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<StoredProviderDefinition> List() => definitions.Values.ToArray();
    public StoredProviderDefinition? Get(string name) => definitions.TryGetValue(name, out var d) ? d : null;
    public void Save(StoredProviderDefinition definition) => definitions[definition.Name] = definition;
    public bool Remove(string name) => definitions.TryRemove(name, out _);
}
