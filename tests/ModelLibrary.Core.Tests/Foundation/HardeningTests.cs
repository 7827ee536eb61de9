using System.Diagnostics;
using ModelLibrary.Catalog;

namespace ModelLibrary.Tests.Foundation;

/// <summary>Issue 9: names that make folders, echoed names, and files that are not what they seem.</summary>
public class HardeningTests
{
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
        Assert.Equal(valid, ModelNames.IsValidId(name));
        Assert.Equal(valid, ModelNames.IsValidProviderName(name));
    }

    [Fact]
    public void Echoed_names_are_escaped_and_cut_short()
    {
        Assert.Equal("evil\\u{202E}fdp", ModelNames.Echo("evil\u202Efdp"));
        Assert.Equal("a\\u{000A}b", ModelNames.Echo("a\nb"));
        var echoed = ModelNames.Echo(new string('x', 10_000));
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
