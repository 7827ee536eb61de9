using ModelLibrary.Compatibility;

namespace ModelLibrary.Registry;

/// <summary>
/// Rows of <c>providers</c>: registered provider definitions as JSON (built-ins are not stored). Names are
/// case-insensitive: the column is <c>COLLATE NOCASE</c>, so <c>My-Runtime</c> and <c>my-runtime</c> are one row.
/// </summary>
public sealed class ProviderStore : IProviderDefinitionStore
{
    readonly RegistryDatabase database;

    public ProviderStore(RegistryDatabase database) => this.database = database;

    public IReadOnlyList<StoredProviderDefinition> List() => database.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT name, definition FROM providers ORDER BY name";
        using var reader = command.ExecuteReader();
        var list = new List<StoredProviderDefinition>();
        while (reader.Read())
        {
            list.Add(new StoredProviderDefinition(reader.GetString(0), reader.GetString(1)));
        }

        return list;
    });

    public StoredProviderDefinition? Get(string name) => database.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT name, definition FROM providers WHERE name = $name COLLATE NOCASE";
        command.Parameters.AddWithValue("$name", name);
        using var reader = command.ExecuteReader();
        return reader.Read() ? new StoredProviderDefinition(reader.GetString(0), reader.GetString(1)) : null;
    });

    public void Save(StoredProviderDefinition definition) => database.Write((c, t) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        // The name is updated too: re-registering 'My-Runtime' over 'my-runtime' keeps the newer spelling.
        command.CommandText = """
            INSERT INTO providers (name, definition) VALUES ($name, $definition)
            ON CONFLICT(name) DO UPDATE SET name = excluded.name, definition = excluded.definition, updated_at = CURRENT_TIMESTAMP
            """;
        command.Parameters.AddWithValue("$name", definition.Name);
        command.Parameters.AddWithValue("$definition", definition.Json);
        command.ExecuteNonQuery();
    });

    public bool Remove(string name) => database.Write((c, t) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = "DELETE FROM providers WHERE name = $name COLLATE NOCASE";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteNonQuery() > 0;
    });
}
