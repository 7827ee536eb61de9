namespace ModelLibrary.Registry;

/// <summary>Rows of <c>providers</c>: registered provider definitions as JSON (built-ins are not stored).</summary>
public sealed class ProviderStore
{
    readonly RegistryDatabase database;

    public ProviderStore(RegistryDatabase database) => this.database = database;

    public IReadOnlyList<(string Name, string Definition)> List() => database.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT name, definition FROM providers ORDER BY name";
        using var reader = command.ExecuteReader();
        var list = new List<(string, string)>();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), reader.GetString(1)));
        }

        return list;
    });

    public void Save(string name, string definitionJson) => database.Write((c, t) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = """
            INSERT INTO providers (name, definition) VALUES ($name, $definition)
            ON CONFLICT(name) DO UPDATE SET definition = excluded.definition, updated_at = CURRENT_TIMESTAMP
            """;
        command.Parameters.AddWithValue("$name", name);
        command.Parameters.AddWithValue("$definition", definitionJson);
        command.ExecuteNonQuery();
    });

    public bool Remove(string name) => database.Write((c, t) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = "DELETE FROM providers WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteNonQuery() > 0;
    });
}
