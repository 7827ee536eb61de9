namespace ModelLibrary.Registry;

/// <summary>
/// Forward-only schema migrations; entry N moves the file from user_version N to N+1. Never edit an entry that
/// has shipped: append a new one.
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<string> All = new[]
    {
        // 1: the seed's two tables, widened with what the contract's types carry, plus sources and providers.
        """
        CREATE TABLE model_registry (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            provider TEXT NOT NULL,
            size INTEGER,
            status TEXT NOT NULL DEFAULT 'available',
            metadata JSON,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            description TEXT,
            capabilities JSON,
            local_path TEXT,
            download_url TEXT,
            checksum TEXT,
            disk_usage INTEGER,
            last_used TEXT,
            download_date TEXT,
            source TEXT,
            format TEXT,
            filename TEXT,
            status_message TEXT,
            extra JSON
        );
        CREATE TABLE download_tasks (
            task_id TEXT PRIMARY KEY,
            model_id TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            progress REAL NOT NULL DEFAULT 0.0,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            url TEXT,
            filename TEXT,
            total_size INTEGER NOT NULL DEFAULT 0,
            downloaded_size INTEGER NOT NULL DEFAULT 0,
            error_message TEXT,
            error_id TEXT,
            start_time TEXT,
            end_time TEXT,
            bytes_per_second REAL,
            eta REAL,
            local_path TEXT,
            checksum TEXT,
            owner_pid INTEGER,
            extra JSON
        );
        CREATE INDEX ix_download_tasks_model ON download_tasks(model_id);
        CREATE TABLE model_sources (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            uri TEXT NOT NULL,
            type TEXT NOT NULL,
            allow_insecure_http INTEGER NOT NULL DEFAULT 0,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        CREATE TABLE providers (
            name TEXT PRIMARY KEY COLLATE NOCASE,
            definition JSON NOT NULL,
            created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
            updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
        );
        """,
        // 2: references (contract Version 2): the commit or manifest digest a model's files came from, and the
        // credential of a registered Hub or registry source (JSON {"user":..., "secret":...}).
        """
        ALTER TABLE model_registry ADD COLUMN revision TEXT;
        ALTER TABLE model_sources ADD COLUMN credential TEXT;
        """,
    };
}
