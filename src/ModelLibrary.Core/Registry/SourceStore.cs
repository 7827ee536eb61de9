using Microsoft.Data.Sqlite;

namespace ModelLibrary.Registry;

/// <summary>A registered model source, as stored in <c>model_sources</c>.</summary>
public sealed record SourceRecord(string Name, string Uri, string Type, bool AllowInsecureHttp, DateTimeOffset? Added);

/// <summary>Rows of <c>model_sources</c>: the catalogs a user registered (the built-in catalog is not stored).</summary>
public sealed class SourceStore
{
    readonly RegistryDatabase database;

    public SourceStore(RegistryDatabase database) => this.database = database;

    public IReadOnlyList<SourceRecord> List() => database.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT name, uri, type, allow_insecure_http, created_at FROM model_sources ORDER BY created_at, name";
        using var reader = command.ExecuteReader();
        var list = new List<SourceRecord>();
        while (reader.Read())
        {
            list.Add(new SourceRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3) != 0,
                JsonValues.ParseTimestamp(reader.IsDBNull(4) ? null : reader.GetString(4))));
        }

        return list;
    });

    /// <summary>Adds the source; false when one of that name exists (nothing changes then).</summary>
    public bool Add(SourceRecord source) => database.Write((c, t) => Insert(c, t, source, "ON CONFLICT(name) DO NOTHING"));

    /// <summary>Replaces a source of the same name (Register-ModelSource -Force).</summary>
    public void Replace(SourceRecord source) => database.Write((c, t) =>
    {
        Remove(c, t, source.Name);
        Insert(c, t, source, "");
    });

    public bool Remove(string name) => database.Write((c, t) => Remove(c, t, name));

    static bool Insert(SqliteConnection c, SqliteTransaction t, SourceRecord source, string onConflict)
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = $"INSERT INTO model_sources (name, uri, type, allow_insecure_http, created_at) VALUES ($name, $uri, $type, $insecure, $created) {onConflict}";
        command.Parameters.AddWithValue("$name", source.Name);
        command.Parameters.AddWithValue("$uri", source.Uri);
        command.Parameters.AddWithValue("$type", source.Type);
        command.Parameters.AddWithValue("$insecure", source.AllowInsecureHttp ? 1 : 0);
        command.Parameters.AddWithValue("$created", JsonValues.Timestamp(source.Added ?? DateTimeOffset.UtcNow));
        return command.ExecuteNonQuery() > 0;
    }

    static bool Remove(SqliteConnection c, SqliteTransaction t, string name)
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = "DELETE FROM model_sources WHERE name = $name";
        command.Parameters.AddWithValue("$name", name);
        return command.ExecuteNonQuery() > 0;
    }
}
