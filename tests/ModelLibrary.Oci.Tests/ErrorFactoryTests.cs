namespace ModelLibrary.Oci.Tests;

/// <summary>
/// The OCI source and publisher build every error through the Errors factories (one per ErrorId), never through
/// the obsolete ModelLibraryException constructor or an exception type chosen by hand: an id then always comes with
/// its own exception type (a security finding is a SecurityError, not a ValidationError) and kind.
/// </summary>
public sealed class ErrorFactoryTests
{
    [Fact]
    public void Oci_sources_build_errors_with_the_factories_only()
    {
        var src = Path.Combine(Path.GetDirectoryName(TestLibrary.Fixtures)!, "..", "src", "ModelLibrary.Core");
        var files = Directory.GetFiles(Path.Combine(src, "Sources", "Oci"), "*.cs")
            .Append(Path.Combine(src, "Library", "OciPublisher.cs"))
            .Append(Path.Combine(src, "Files", "ArchiveUnpacker.cs"));
        var offenders = files.SelectMany(f => File.ReadAllLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line.Trim())))
            .Where(l => l.Text.Contains("ErrorKind.", StringComparison.Ordinal)
                || System.Text.RegularExpressions.Regex.IsMatch(l.Text, @"new (ModelLibraryException|ValidationException|NetworkException|ModelSecurityException)\("))
            .Select(l => $"{l.File}:{l.Line}: {l.Text}")
            .ToList();

        Assert.True(offenders.Count == 0, "Build these errors with the Errors factories:\n" + string.Join("\n", offenders));
    }
}
