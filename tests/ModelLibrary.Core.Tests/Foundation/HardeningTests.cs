using System.Diagnostics;
using ModelLibrary.Catalog;
using ModelLibrary.Registry;

namespace ModelLibrary.Tests.Foundation;

/// <summary>Issue 9: the registry's errors, names that make folders, and files that are not what they seem.</summary>
public class HardeningTests
{
    [Fact]
    public void A_full_disk_while_writing_the_registry_is_InsufficientDiskSpace_with_the_volumes_figures()
    {
        using var dir = new TempDirectory();
        var db = new RegistryDatabase(dir.Combine("registry.db"));
        db.SchemaVersion();

        // SQLite's max_page_count makes the file full at its current size: the write fails with SQLITE_FULL
        // ("database or disk is full"), exactly as on a full volume.
        var e = Assert.Throws<DiskSpaceException>(() => db.Write((c, t) =>
        {
            using var cap = c.CreateCommand();
            cap.Transaction = t;
            cap.CommandText = "PRAGMA max_page_count = 1";
            cap.ExecuteNonQuery();
            using var insert = c.CreateCommand();
            insert.Transaction = t;
            insert.CommandText = "INSERT INTO model_registry (id, name, provider, status) VALUES ('big', zeroblob(1000000), 'x', 'available')";
            insert.ExecuteNonQuery();
        }));

        Assert.Equal(ErrorIds.InsufficientDiskSpace, e.ErrorId);
        Assert.Contains("registry", e.Message);
        Assert.DoesNotContain("database or disk is full", e.Message);
        Assert.True(e.AvailableSpace > 0, "the volume's real free space");
        Assert.True(e.RequiredSpace > 0);
        // Nothing was half written.
        Assert.Equal(0L, db.Read(c =>
        {
            using var count = c.CreateCommand();
            count.CommandText = "SELECT COUNT(*) FROM model_registry WHERE id = 'big'";
            return (long)count.ExecuteScalar()!;
        }));
    }

    [Theory]
    [InlineData("llama-3.2-1b", true)]
    [InlineData("a.b_c-d", true)]
    [InlineData("new\nline", false)]
    [InlineData("trailing\n", false)]
    [InlineData("up..dir", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a\\b", false)]
    [InlineData("tab\there", false)]
    public void Ids_and_provider_names_refuse_control_characters_separators_and_dot_dot(string name, bool valid)
    {
        Assert.Equal(valid, CatalogJson.IsValidId(name));
        Assert.Equal(valid, CatalogJson.IsValidProviderName(name));
    }

    [Fact]
    public void Echoed_names_are_escaped_and_cut_short()
    {
        Assert.Equal("evil\\u{202E}fdp", CatalogJson.Echo("evil\u202Efdp"));
        Assert.Equal("a\\u{000A}b", CatalogJson.Echo("a\nb"));
        var echoed = CatalogJson.Echo(new string('x', 10_000));
        Assert.True(echoed.Length < 100, echoed);
        Assert.EndsWith("(10000 characters)", echoed);
    }

    [Fact]
    public void A_fifo_is_refused_before_it_is_opened_and_links_report_their_targets_length()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // No FIFOs or POSIX links to make there.
        }

        using var dir = new TempDirectory();
        var fifo = dir.Combine("pipe.gguf");
        using (var mkfifo = Process.Start("mkfifo", fifo))
        {
            mkfifo.WaitForExit();
        }

        Assert.Equal("a FIFO (named pipe)", FileKinds.SpecialKind(fifo));
        var e = Assert.Throws<ValidationException>(() => FileKinds.EnsureNotSpecial(fifo));
        Assert.Equal(ErrorIds.InvalidModelFile, e.ErrorId);
        Assert.Equal("a character device", FileKinds.SpecialKind("/dev/null"));

        var real = dir.Combine("real.bin");
        File.WriteAllBytes(real, new byte[12345]);
        var link = dir.Combine("link.bin");
        File.CreateSymbolicLink(link, real);
        Assert.Null(FileKinds.SpecialKind(link));
        Assert.Equal(12345, FileKinds.Length(link));
        Assert.NotEqual(12345, new FileInfo(link).Length); // what .NET says of the link itself
    }
}
