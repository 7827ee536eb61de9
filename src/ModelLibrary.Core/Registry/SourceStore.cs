using Microsoft.Data.Sqlite;

namespace ModelLibrary.Registry;

/// <summary>A registered model source, as stored in <c>model_sources</c>.</summary>
public sealed record SourceRecord(string Name, string Uri, string Type, bool AllowInsecureHttp, DateTimeOffset? Added)
{
    /// <summary>The credential given at registration (Hub token, registry login); null when none.</summary>
    public SourceCredential? Credential { get; init; }
}

/// <summary>
/// A registered source's credential. Kept in <c>registry.db</c> beside the library, readable by whoever can read the
/// library folder (as <c>~/.docker/config.json</c> and <c>~/.cache/huggingface/token</c> keep theirs).
/// </summary>
public sealed record SourceCredential(string? UserName, string Secret)
{
    public override string ToString() => $"{UserName ?? "(token)"}:***";
}

/// <summary>Rows of <c>model_sources</c>: the catalogs a user registered (the built-in catalog is not stored).</summary>
public sealed class SourceStore
{
    readonly RegistryDatabase database;

    public SourceStore(RegistryDatabase database) => this.database = database;

    public IReadOnlyList<SourceRecord> List() => database.Read(c =>
    {
        using var command = c.CreateCommand();
        command.CommandText = "SELECT name, uri, type, allow_insecure_http, created_at, credential FROM model_sources ORDER BY created_at, name";
        using var reader = command.ExecuteReader();
        var list = new List<SourceRecord>();
        while (reader.Read())
        {
            list.Add(new SourceRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3) != 0,
                JsonValues.ParseTimestamp(reader.IsDBNull(4) ? null : reader.GetString(4)))
            {
                Credential = reader.IsDBNull(5) ? null : System.Text.Json.JsonSerializer.Deserialize<SourceCredential>(reader.GetString(5)),
            });
        }

        return list;
    });

    /// <summary>Adds the source; false when one of that name exists (nothing changes then).</summary>
    public bool Add(SourceRecord source) => database.Write((c, t) => Insert(c, t, source, "ON CONFLICT(name) DO NOTHING"));

    /// <summary>Replaces a source of the same name (Register-ModelSource -Force); its old credential is not kept anywhere in the file.</summary>
    public void Replace(SourceRecord source)
    {
        database.Write((c, t) =>
        {
            Remove(c, t, source.Name);
            Insert(c, t, source, "");
        });
        database.ForgetRemoved();
    }

    /// <summary>Removes the source; its credential is not kept anywhere in the file (not in free pages, not in the log).</summary>
    public bool Remove(string name)
    {
        var removed = database.Write((c, t) => Remove(c, t, name));
        if (removed)
        {
            database.ForgetRemoved();
        }

        return removed;
    }

    static bool Insert(SqliteConnection c, SqliteTransaction t, SourceRecord source, string onConflict)
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = $"INSERT INTO model_sources (name, uri, type, allow_insecure_http, created_at, credential) VALUES ($name, $uri, $type, $insecure, $created, $credential) {onConflict}";
        command.Parameters.AddWithValue("$name", source.Name);
        command.Parameters.AddWithValue("$uri", source.Uri);
        command.Parameters.AddWithValue("$type", source.Type);
        command.Parameters.AddWithValue("$insecure", source.AllowInsecureHttp ? 1 : 0);
        command.Parameters.AddWithValue("$created", JsonValues.Timestamp(source.Added ?? DateTimeOffset.UtcNow));
        command.Parameters.AddWithValue("$credential", source.Credential is null ? DBNull.Value : System.Text.Json.JsonSerializer.Serialize(source.Credential));
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
