using System.Globalization;

namespace ModelLibrary.Registry;

/// <summary>Opens the registry for real and says what is in it; the integration self-test's registry step.</summary>
public static class RegistryHealth
{
    static readonly string[] Tables = { "model_registry", "download_tasks", "model_sources", "providers" };

    /// <summary>
    /// The file, its schema version and row counts, after SQLite's quick integrity check. Throws when the file cannot
    /// be opened, is newer than this module, or is damaged.
    /// </summary>
    public static string Describe(RegistryDatabase database) => database.Read(c =>
    {
        long Scalar(string sql)
        {
            using var command = c.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        using (var check = c.CreateCommand())
        {
            check.CommandText = "PRAGMA quick_check;";
            var verdict = check.ExecuteScalar() as string;
            if (!string.Equals(verdict, "ok", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"{database.Path} failed SQLite's integrity check: {verdict}");
            }
        }

        var version = Scalar("PRAGMA user_version;");
        // Table names are constants above, never user input.
        var counts = Tables.Select(t => $"{Scalar($"SELECT COUNT(*) FROM {t};")} {t}");
        return $"{database.Path}: schema version {version} (this module writes {RegistryDatabase.CurrentSchemaVersion}); {string.Join(", ", counts)}.";
    });
}
