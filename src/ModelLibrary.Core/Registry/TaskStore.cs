using Microsoft.Data.Sqlite;

namespace ModelLibrary.Registry;

/// <summary>Rows of <c>download_tasks</c>: every download, so another session sees and resumes it.</summary>
public sealed class TaskStore
{
    const string Columns = "task_id, model_id, status, progress, url, filename, total_size, downloaded_size, error_message, error_id, start_time, end_time, bytes_per_second, eta, local_path, checksum, updated_at";

    readonly RegistryDatabase database;

    public TaskStore(RegistryDatabase database) => this.database = database;

    public IReadOnlyList<DownloadTask> List() => database.Read(c => Query(c, $"SELECT {Columns} FROM download_tasks ORDER BY created_at, task_id", null));

    public DownloadTask? Get(string taskId) => database.Read(c => Query(c, $"SELECT {Columns} FROM download_tasks WHERE task_id = $v", taskId).FirstOrDefault());

    public IReadOnlyList<DownloadTask> ForModel(string modelId) => database.Read(c => Query(c, $"SELECT {Columns} FROM download_tasks WHERE model_id = $v ORDER BY created_at", modelId));

    public void Upsert(DownloadTask task, int? ownerPid = null) => database.Write((c, t) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = $"""
            INSERT INTO download_tasks (task_id, model_id, status, progress, url, filename, total_size, downloaded_size, error_message, error_id,
                                        start_time, end_time, bytes_per_second, eta, local_path, checksum, owner_pid, updated_at)
            VALUES ($task_id, $model_id, $status, $progress, $url, $filename, $total_size, $downloaded_size, $error_message, $error_id,
                    $start_time, $end_time, $bps, $eta, $local_path, $checksum, $owner_pid, CURRENT_TIMESTAMP)
            ON CONFLICT(task_id) DO UPDATE SET
                model_id = excluded.model_id, status = excluded.status, progress = excluded.progress, url = excluded.url,
                filename = excluded.filename, total_size = excluded.total_size, downloaded_size = excluded.downloaded_size,
                error_message = excluded.error_message, error_id = excluded.error_id, start_time = excluded.start_time,
                end_time = excluded.end_time, bytes_per_second = excluded.bytes_per_second, eta = excluded.eta,
                local_path = excluded.local_path, checksum = excluded.checksum, owner_pid = excluded.owner_pid,
                updated_at = CURRENT_TIMESTAMP
            """;
        var p = command.Parameters;
        p.AddWithValue("$task_id", task.TaskId);
        p.AddWithValue("$model_id", task.ModelId);
        p.AddWithValue("$status", task.Status.ToString().ToLowerInvariant());
        p.AddWithValue("$progress", task.Progress);
        p.AddWithValue("$url", task.Url);
        p.AddWithValue("$filename", task.FileName);
        p.AddWithValue("$total_size", task.TotalSize);
        p.AddWithValue("$downloaded_size", task.DownloadedSize);
        p.AddWithValue("$error_message", (object?)task.ErrorMessage ?? DBNull.Value);
        p.AddWithValue("$error_id", (object?)task.ErrorId ?? DBNull.Value);
        p.AddWithValue("$start_time", (object?)JsonValues.Timestamp(task.StartTime) ?? DBNull.Value);
        p.AddWithValue("$end_time", (object?)JsonValues.Timestamp(task.EndTime) ?? DBNull.Value);
        p.AddWithValue("$bps", (object?)task.BytesPerSecond ?? DBNull.Value);
        p.AddWithValue("$eta", (object?)task.EstimatedTimeRemaining ?? DBNull.Value);
        p.AddWithValue("$local_path", (object?)task.LocalPath ?? DBNull.Value);
        p.AddWithValue("$checksum", (object?)task.Checksum ?? DBNull.Value);
        p.AddWithValue("$owner_pid", (object?)ownerPid ?? DBNull.Value);
        command.ExecuteNonQuery();
    });

    public bool Delete(string taskId) => database.Write((c, t) =>
    {
        using var command = c.CreateCommand();
        command.Transaction = t;
        command.CommandText = "DELETE FROM download_tasks WHERE task_id = $v";
        command.Parameters.AddWithValue("$v", taskId);
        return command.ExecuteNonQuery() > 0;
    });

    static List<DownloadTask> Query(SqliteConnection connection, string sql, string? value)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (value is not null)
        {
            command.Parameters.AddWithValue("$v", value);
        }

        var list = new List<DownloadTask>();
        using var r = command.ExecuteReader();
        while (r.Read())
        {
            list.Add(new DownloadTask
            {
                TaskId = r.GetString(0),
                ModelId = r.GetString(1),
                Status = Enum.TryParse<DownloadStatus>(r.GetString(2), true, out var s) ? s : DownloadStatus.Failed,
                Progress = r.GetDouble(3),
                Url = r.IsDBNull(4) ? "" : r.GetString(4),
                FileName = r.IsDBNull(5) ? "" : r.GetString(5),
                TotalSize = r.GetInt64(6),
                DownloadedSize = r.GetInt64(7),
                ErrorMessage = r.IsDBNull(8) ? null : r.GetString(8),
                ErrorId = r.IsDBNull(9) ? null : r.GetString(9),
                StartTime = JsonValues.ParseTimestamp(r.IsDBNull(10) ? null : r.GetString(10)),
                EndTime = JsonValues.ParseTimestamp(r.IsDBNull(11) ? null : r.GetString(11)),
                BytesPerSecond = r.IsDBNull(12) ? null : r.GetDouble(12),
                EstimatedTimeRemaining = r.IsDBNull(13) ? null : r.GetDouble(13),
                LocalPath = r.IsDBNull(14) ? null : r.GetString(14),
                Checksum = r.IsDBNull(15) ? null : r.GetString(15),
                UpdatedAt = JsonValues.ParseTimestamp(r.IsDBNull(16) ? null : r.GetString(16)),
            });
        }

        return list;
    }
}
