using System.Management.Automation;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>Turns -Path arguments (file system paths, wildcards, or PSPath values from Get-ChildItem) into full paths.</summary>
internal static class FileSystemPaths
{
    /// <summary>
    /// A path that exists as written is taken literally, so file names with '[' or ']' work when piped from
    /// Get-ChildItem; anything else is expanded as a wildcard. A path that matches nothing, or is not on the file
    /// system, becomes a non-terminating error and yields nothing.
    /// </summary>
    public static IReadOnlyList<string> Resolve(PSCmdlet cmdlet, string path)
    {
        try
        {
            if (ExistingLiteral(cmdlet, path) is { } literal)
            {
                return new[] { literal };
            }

            var resolved = cmdlet.SessionState.Path.GetResolvedProviderPathFromPSPath(path, out var provider);
            if (provider.Name != "FileSystem")
            {
                cmdlet.WriteError(new ErrorRecord(new ArgumentException($"'{path}' is not a file system path."), "NotFileSystemPath", ErrorCategory.InvalidArgument, path));
                return Array.Empty<string>();
            }

            return resolved.ToArray();
        }
        catch (Exception e) when (e is ItemNotFoundException or System.Management.Automation.DriveNotFoundException or ProviderNotFoundException)
        {
            cmdlet.WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, path));
            return Array.Empty<string>();
        }
    }

    /// <summary>The full path of the file or folder <paramref name="path"/> names as written, when it exists on the file system; else null.</summary>
    public static string? ExistingLiteral(PSCmdlet cmdlet, string path)
    {
        try
        {
            var literal = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
            return provider.Name == "FileSystem" && (File.Exists(literal) || Directory.Exists(literal)) ? literal : null;
        }
        catch (Exception e) when (e is System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or NotSupportedException or ArgumentException)
        {
            // Not a path at all (a model id with a colon, say): nothing exists under that name.
            return null;
        }
    }
}
