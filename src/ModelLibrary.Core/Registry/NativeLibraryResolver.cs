using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace ModelLibrary.Registry;

/// <summary>
/// Finds native libraries (SQLite's <c>e_sqlite3</c>) in this assembly's own <c>runtimes/&lt;rid&gt;/native</c> folder.
/// </summary>
/// <remarks>
/// A host such as pwsh loads this assembly without its <c>.deps.json</c>, so the runtime never learns about the
/// <c>runtimes/</c> folder and <c>SqliteConnection</c>'s type initializer fails with DllNotFoundException. The
/// <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/> event is the fallback after normal probing, so where
/// deps.json works (tests, apps) this costs nothing, and it never replaces a resolver someone else set.
/// </remarks>
internal static class NativeLibraryResolver
{
    static int registered;

#pragma warning disable CA2255 // A library initializer is exactly the point: it must run before any SQLite type is touched.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1)
        {
            return;
        }

        var context = AssemblyLoadContext.GetLoadContext(typeof(NativeLibraryResolver).Assembly) ?? AssemblyLoadContext.Default;
        context.ResolvingUnmanagedDll += Resolve;
    }

    static IntPtr Resolve(Assembly requester, string libraryName)
    {
        var baseDir = Path.GetDirectoryName(typeof(NativeLibraryResolver).Assembly.Location);
        if (string.IsNullOrEmpty(baseDir))
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in Candidates(baseDir, libraryName))
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    /// <summary>Paths to try, most specific runtime identifier first.</summary>
    internal static IEnumerable<string> Candidates(string baseDir, string libraryName)
    {
        var fileNames = FileNames(libraryName).ToArray();
        foreach (var rid in RuntimeIdentifiers())
        {
            foreach (var file in fileNames)
            {
                yield return Path.Combine(baseDir, "runtimes", rid, "native", file);
            }
        }

        foreach (var file in fileNames)
        {
            yield return Path.Combine(baseDir, file);
        }
    }

    static IEnumerable<string> FileNames(string libraryName)
    {
        if (Path.HasExtension(libraryName) && (libraryName.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ||
            libraryName.EndsWith(".so", StringComparison.Ordinal) || libraryName.EndsWith(".dylib", StringComparison.Ordinal)))
        {
            yield return libraryName;
            yield break;
        }

        if (OperatingSystem.IsWindows())
        {
            yield return libraryName + ".dll";
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return "lib" + libraryName + ".dylib";
            yield return libraryName + ".dylib";
        }
        else
        {
            yield return "lib" + libraryName + ".so";
            yield return libraryName + ".so";
        }
    }

    static IEnumerable<string> RuntimeIdentifiers()
    {
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.X86 => "x86",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };

        if (OperatingSystem.IsWindows())
        {
            yield return $"win-{arch}";
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return $"osx-{arch}";
            yield return "osx";
        }
        else
        {
            if (IsMusl())
            {
                yield return $"linux-musl-{arch}";
            }

            yield return $"linux-{arch}";
        }

        yield return RuntimeInformation.RuntimeIdentifier;
    }

    static bool IsMusl()
    {
        try
        {
            return File.Exists("/etc/alpine-release") || Directory.EnumerateFiles("/lib", "ld-musl-*").Any();
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
