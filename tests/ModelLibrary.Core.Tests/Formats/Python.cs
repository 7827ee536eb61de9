using System.Diagnostics;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Runs python3 as an independent writer and reference reader of containers: its <c>struct</c>, <c>zipfile</c>,
/// <c>tarfile</c> and <c>pickletools</c> write hostile files and say what Python's own readers would hand to an
/// unpickler. Scripts never unpickle or load anything (no pickle.load, no torch).
/// </summary>
internal static class Python
{
    /// <summary>Runs <paramref name="script"/> with <paramref name="args"/> (as sys.argv[1:]); returns its stdout, trimmed.</summary>
    public static string Run(string script, params string[] args)
    {
        Assert.DoesNotContain("pickle.load", script);
        var info = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-I");
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("python3 did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("python3 ran for more than a minute");
        }
        if (process.ExitCode != 0) throw new InvalidOperationException($"python3 failed ({process.ExitCode}): {error.Result}");
        return output.Result.Trim();
    }
}
