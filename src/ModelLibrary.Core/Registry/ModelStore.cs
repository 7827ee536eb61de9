using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace ModelLibrary.Registry;

/// <summary>
/// Rows of <c>model_registry</c>: the models that have state of their own (downloading, local, error, imported).
/// Catalog entries without state are not copied here; the library derives their rows from the catalog.
/// </summary>
public sealed class ModelStore
{
    const string Columns = "id, name, provider, size, status, metadata, description, capabilities, local_path, download_url, checksum, disk_usage, last_used, download_date, source, format, filename, status_message, extra, revision";

    readonly RegistryDatabase database;

    public ModelStore(RegistryDatabase database) => this.database = database;

    public IReadOnlyList<ModelInfo> List() => database.Read(c => Query(c, $"SELECT {Columns} FROM model_registry ORDER BY id"));

    public ModelInfo? Get(string id) => database.Read(c => Query(c, $"SELECT {Columns} FROM model_registry WHERE id = $id", ("$id", id)).FirstOrDefault());

    /// <summary>Inserts or replaces the whole row, in one transaction.</summary>
    public void Upsert(ModelInfo model) => database.Write((c, t) => Upsert(c, t, model));

    /// <summary>Reads, changes and writes a row atomically; <paramref name="seed"/> gives the row when none exists.</summary>
    public ModelInfo Update(string id, Func<ModelInfo?> seed, Action<ModelInfo> change) => database.Write((c, t) =>
    {
        var model = Query(c, $"SELECT {Columns} FROM model_registry WHERE id = $id", ("$id", id), t).FirstOrDefault() ?? seed()
            ?? throw Errors.ModelNotFound(id);
        change(model);
        Upsert(c, t, model);
        return model;
    });

    public bool Delete(string id) => database.Write((c, t) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = "DELETE FROM model_registry WHERE id = $id";
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery() > 0;
    });

    static void Upsert(SqliteConnection connection, SqliteTransaction transaction, ModelInfo m)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"""
            INSERT INTO model_registry ({Columns}, updated_at)
            VALUES ($id, $name, $provider, $size, $status, $metadata, $description, $capabilities, $local_path, $download_url,
                    $checksum, $disk_usage, $last_used, $download_date, $source, $format, $filename, $status_message, $extra, $revision, CURRENT_TIMESTAMP)
            ON CONFLICT(id) DO UPDATE SET
                name = excluded.name, provider = excluded.provider, size = excluded.size, status = excluded.status,
                metadata = excluded.metadata, description = excluded.description, capabilities = excluded.capabilities,
                local_path = excluded.local_path, download_url = excluded.download_url, checksum = excluded.checksum,
                disk_usage = excluded.disk_usage, last_used = excluded.last_used, download_date = excluded.download_date,
                source = excluded.source, format = excluded.format, filename = excluded.filename,
                status_message = excluded.status_message, extra = excluded.extra, revision = excluded.revision, updated_at = CURRENT_TIMESTAMP
            """;
        var p = command.Parameters;
        p.AddWithValue("$id", m.Id);
        p.AddWithValue("$name", m.Name);
        p.AddWithValue("$provider", m.Provider);
        p.AddWithValue("$size", (object?)m.Size ?? DBNull.Value);
        p.AddWithValue("$status", StatusText(m.Status));
        p.AddWithValue("$metadata", MetadataJson.Write(m.Metadata));
        p.AddWithValue("$description", (object?)m.Description ?? DBNull.Value);
        p.AddWithValue("$capabilities", JsonSerializer.Serialize(m.Capabilities));
        p.AddWithValue("$local_path", (object?)m.LocalPath ?? DBNull.Value);
        p.AddWithValue("$download_url", (object?)m.DownloadUrl ?? DBNull.Value);
        p.AddWithValue("$checksum", (object?)m.Checksum ?? DBNull.Value);
        p.AddWithValue("$disk_usage", (object?)m.DiskUsage ?? DBNull.Value);
        p.AddWithValue("$last_used", (object?)JsonValues.Timestamp(m.LastUsed) ?? DBNull.Value);
        p.AddWithValue("$download_date", (object?)JsonValues.Timestamp(m.DownloadDate) ?? DBNull.Value);
        p.AddWithValue("$source", (object?)m.Source ?? DBNull.Value);
        p.AddWithValue("$format", (object?)m.Format ?? DBNull.Value);
        p.AddWithValue("$filename", (object?)m.FileName ?? DBNull.Value);
        p.AddWithValue("$status_message", (object?)m.StatusMessage ?? DBNull.Value);
        p.AddWithValue("$extra", m.AdditionalProperties.Count == 0 ? DBNull.Value : JsonSerializer.Serialize(m.AdditionalProperties));
        p.AddWithValue("$revision", (object?)m.Revision ?? DBNull.Value);
        command.ExecuteNonQuery();
    }

    static List<ModelInfo> Query(SqliteConnection connection, string sql, (string Name, object Value)? parameter = null, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        if (parameter is { } p)
        {
            command.Parameters.AddWithValue(p.Name, p.Value);
        }

        var list = new List<ModelInfo>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(new ModelInfo
            {
                Id = reader.GetString(0),
                Name = reader.GetString(1),
                Provider = reader.GetString(2),
                Size = reader.IsDBNull(3) ? null : reader.GetInt64(3),
                Status = ParseStatus(reader.GetString(4)),
                Metadata = MetadataJson.Read(reader.IsDBNull(5) ? null : reader.GetString(5)),
                Description = reader.IsDBNull(6) ? null : reader.GetString(6),
                Capabilities = reader.IsDBNull(7) ? Array.Empty<string>() : JsonSerializer.Deserialize<string[]>(reader.GetString(7)) ?? Array.Empty<string>(),
                LocalPath = reader.IsDBNull(8) ? null : reader.GetString(8),
                DownloadUrl = reader.IsDBNull(9) ? null : reader.GetString(9),
                Checksum = reader.IsDBNull(10) ? null : reader.GetString(10),
                DiskUsage = reader.IsDBNull(11) ? null : reader.GetInt64(11),
                LastUsed = JsonValues.ParseTimestamp(reader.IsDBNull(12) ? null : reader.GetString(12)),
                DownloadDate = JsonValues.ParseTimestamp(reader.IsDBNull(13) ? null : reader.GetString(13)),
                Source = reader.IsDBNull(14) ? null : reader.GetString(14),
                Format = reader.IsDBNull(15) ? null : reader.GetString(15),
                FileName = reader.IsDBNull(16) ? null : reader.GetString(16),
                StatusMessage = reader.IsDBNull(17) ? null : reader.GetString(17),
                AdditionalProperties = reader.IsDBNull(18) ? new Dictionary<string, object?>() : ReadExtra(reader.GetString(18)),
                Revision = reader.IsDBNull(19) ? null : reader.GetString(19),
            });
        }

        return list;
    }

    static IDictionary<string, object?> ReadExtra(string json)
    {
        using var document = JsonDocument.Parse(json);
        return JsonValues.ToPlain(document.RootElement) as IDictionary<string, object?> ?? new Dictionary<string, object?>();
    }

    /// <summary>The seed stores statuses in lower case ('available', 'local', ...).</summary>
    public static string StatusText(ModelStatus status) => status.ToString().ToLowerInvariant();

    public static ModelStatus ParseStatus(string text) => Enum.TryParse<ModelStatus>(text, ignoreCase: true, out var s) ? s : ModelStatus.Error;
}
