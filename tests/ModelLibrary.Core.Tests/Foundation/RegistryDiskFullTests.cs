using ModelLibrary.Registry;

namespace ModelLibrary.Tests.Foundation;

/// <summary>Issue 9 item 1: a full disk under registry.db is InsufficientDiskSpace with figures, never a raw SqliteException.</summary>
public class RegistryDiskFullTests
{
    [Fact]
    public void A_write_that_finds_the_disk_full_is_InsufficientDiskSpace()
    {
        using var dir = new TempDirectory();
        var db = new RegistryDatabase(dir.Combine("registry.db"));
        db.SchemaVersion();

        // SQLite answers SQLITE_FULL ("database or disk is full") when the file may not grow: the same error a full
        // volume gives, without filling one.
        var error = Assert.Throws<DiskSpaceException>(() => db.Write((c, t) =>
        {
            RegistryDatabase.Execute(c, "PRAGMA max_page_count = 1;", t);
            RegistryDatabase.Execute(c, "CREATE TABLE filler (x BLOB); INSERT INTO filler VALUES (zeroblob(1000000));", t);
        }));

        Assert.Equal(ErrorIds.InsufficientDiskSpace, error.ErrorId);
        Assert.Contains("is full", error.Message);
        Assert.Contains("registry.db", error.Message);
        Assert.True(error.AvailableSpace > 0);
        Assert.IsType<Microsoft.Data.Sqlite.SqliteException>(error.InnerException);
    }
}
