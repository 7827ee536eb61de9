using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace ModelLibrary.Registry;

/// <summary>
/// The library's SQLite file (<c>registry.db</c>): opens connections with WAL and a busy timeout, applies forward
/// migrations once per file and process, and runs every write in an immediate transaction.
/// </summary>
/// <remarks>
/// Two pwsh processes share one library: WAL lets readers run beside a writer, <c>BEGIN IMMEDIATE</c> takes the
/// write lock up front (no deadlocking lock upgrades), and the busy timeout makes a second writer wait instead of
/// failing with "database is locked".
/// <para>A library the user may read but not write (another user's, a read-only mount) is opened read-only: every
/// listing works, and a write fails with <c>RegistryUnavailable</c> saying so and what to do. A full disk during a
/// write is <c>InsufficientDiskSpace</c> with the volume's free space. No raw <c>SqliteException</c> leaves this class.</para>
/// </remarks>
public sealed class RegistryDatabase
{
    /// <summary>How long a writer waits for another process's transaction before giving up.</summary>
    const int BusyTimeoutSeconds = 30;

    static readonly ConcurrentDictionary<string, bool> Migrated = new(StringComparer.Ordinal);

    /// <summary>SQLite's result codes this class turns into the library's errors.</summary>
    const int SqlitePerm = 3, SqliteReadOnly = 8, SqliteCantOpen = 14;

    readonly string connectionString;
    string? readOnlyConnectionString;

    public RegistryDatabase(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = BusyTimeoutSeconds,
            Pooling = true,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => Migrations.All.Count;

    /// <summary>True once the file proved read-only for this process (see the remarks).</summary>
    public bool IsReadOnly => readOnlyConnectionString is not null;

    /// <summary>Opens a connection, creating and migrating the file on first use; read-only when it cannot be written.</summary>
    public SqliteConnection Open()
    {
        if (readOnlyConnectionString is { } readOnly)
        {
            return OpenReadOnly(readOnly);
        }

        var connection = new SqliteConnection(connectionString);
        try
        {
            Configuration.PrivateFiles.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            // Created user-only before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
            Configuration.PrivateFiles.CreateFile(Path);
            connection.Open();
            Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000};");
            // Deleted rows are overwritten, not left in free pages: an unregistered source's credential is gone from the file.
            Execute(connection, "PRAGMA secure_delete = ON;");
            if (!Migrated.ContainsKey(Path))
            {
                Migrate(connection);
                Migrated[Path] = true;
            }

            return connection;
        }
        catch (Exception e) when (File.Exists(Path) && IsNotWritable(e))
        {
            // Someone else's library, or a read-only mount: read it as it is.
            connection.Dispose();
            return OpenReadOnly(null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SqliteException)
        {
            connection.Dispose();
            throw Unavailable(e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A read-only connection. In WAL mode a reader needs the <c>-shm</c> file; where it cannot be created (a folder
    /// the user may not write) the file is opened immutable, which reads it as it stands on disk.
    /// </summary>
    SqliteConnection OpenReadOnly(string? known)
    {
        var candidates = known is not null ? new[] { known } : new[]
        {
            new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadOnly, Cache = SqliteCacheMode.Private, Pooling = false }.ToString(),
            new SqliteConnectionStringBuilder { DataSource = new Uri(Path).AbsoluteUri + "?immutable=1", Mode = SqliteOpenMode.ReadOnly, Cache = SqliteCacheMode.Private, Pooling = false }.ToString(),
        };
        Exception? last = null;
        foreach (var candidate in candidates)
        {
            var connection = new SqliteConnection(candidate);
            try
            {
                connection.Open();
                var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);
                if (version != Migrations.All.Count)
                {
                    connection.Dispose();
                    throw ReadOnlyRegistry($"its schema (version {version}) must be {(version < Migrations.All.Count ? "upgraded" : "read by a newer module")}, which needs write access", null);
                }

                readOnlyConnectionString = candidate;
                return connection;
            }
            catch (SqliteException e)
            {
                connection.Dispose();
                last = e;
            }
        }

        throw Unavailable(last!);
    }

    public T Read<T>(Func<SqliteConnection, T> read)
    {
        using var connection = Open();
        try
        {
            return read(connection);
        }
        catch (SqliteException e)
        {
            throw Unavailable(e);
        }
    }

    /// <summary>
    /// Copies the write-ahead log into the database and empties it, so that what a write removed (with
    /// secure_delete, overwritten in the database) is in no older page the log still holds. Best effort: a reader in
    /// another process may keep part of the log for now; the next checkpoint takes it.
    /// </summary>
    public void ForgetRemoved()
    {
        try
        {
            using var connection = Open();
            Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        catch (SqliteException)
        {
        }
    }

    public void Write(Action<SqliteConnection, SqliteTransaction> write) => Write<object?>((c, t) =>
    {
        write(c, t);
        return null;
    });

    /// <summary>
    /// Runs <paramref name="write"/> in an immediate transaction. A library that cannot be written is
    /// <c>RegistryUnavailable</c>; a full disk is <c>InsufficientDiskSpace</c>; nothing is half written either way.
    /// </summary>
    public T Write<T>(Func<SqliteConnection, SqliteTransaction, T> write)
    {
        using var connection = Open();
        if (IsReadOnly)
        {
            throw ReadOnlyRegistry("can be read but not written", null);
        }

        try
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = write(connection, transaction);
            transaction.Commit();
            return result;
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SqliteFull)
        {
            // "database or disk is full": the user's problem is the disk, said with the figures, not SQLite's words.
            var directory = System.IO.Path.GetDirectoryName(Path)!;
            throw Errors.InsufficientDiskSpace(Path, Files.Volumes.AvailableFreeSpace(directory) ?? 0, e);
        }
        catch (SqliteException e) when (IsNotWritable(e))
        {
            throw ReadOnlyRegistry("cannot be written", e);
        }
        catch (SqliteException e)
        {
            throw Unavailable(e);
        }
    }

    static bool IsNotWritable(Exception e) => e switch
    {
        SqliteException s => s.SqliteErrorCode is SqliteReadOnly or SqliteCantOpen or SqlitePerm,
        UnauthorizedAccessException => true,
        _ => false,
    };

    ModelLibraryException ReadOnlyRegistry(string why, Exception? inner) => Errors.LibraryReadOnly(Path, why, inner);

    /// <summary>Fails with <c>RegistryUnavailable</c> when the library cannot be written; for a use case to check before it touches any file.</summary>
    public void EnsureWritable()
    {
        using var connection = Open();
        if (IsReadOnly)
        {
            throw ReadOnlyRegistry("can be read but not written", null);
        }
    }

    /// <summary>SQLITE_FULL.</summary>
    const int SqliteFull = 13;

    ModelLibraryException Unavailable(Exception e) => Errors.RegistryUnavailable(Path, e.Message, e);

    /// <summary>The schema version stored in the file (SQLite's user_version).</summary>
    public int SchemaVersion() => Read(c => Convert.ToInt32(Scalar(c, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Forgets that files were migrated and releases pooled handles (tests delete their folders).</summary>
    public static void ReleaseAll()
    {
        SqliteConnection.ClearAllPools();
        Migrated.Clear();
    }

    static void Migrate(SqliteConnection connection)
    {
        // A file at the current version needs nothing written (a read-only library included).
        if (Convert.ToInt32(Scalar(connection, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture) == Migrations.All.Count
            && string.Equals(Scalar(connection, "PRAGMA journal_mode;") as string, "wal", StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        // WAL is a property of the file; setting it needs no transaction and is a no-op when already set.
        Execute(connection, "PRAGMA journal_mode = WAL;");
        using var transaction = connection.BeginTransaction(deferred: false);
        var version = Convert.ToInt32(Scalar(connection, "PRAGMA user_version;", transaction), System.Globalization.CultureInfo.InvariantCulture);
        if (version > Migrations.All.Count)
        {
            throw Errors.InvalidConfiguration(Configuration.LibraryConfiguration.ModelsDirVariable, connection.DataSource,
                $"the registry there has schema version {version}, newer than this module understands ({Migrations.All.Count})",
                new[] { "Update the ModelLibrary module, or use another MODELS_DIR." });
        }

        for (var next = version; next < Migrations.All.Count; next++)
        {
            Execute(connection, Migrations.All[next], transaction);
            Execute(connection, $"PRAGMA user_version = {next + 1};", transaction);
        }

        transaction.Commit();
    }

    internal static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    static object? Scalar(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command.ExecuteScalar();
    }
}
