using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using LLama.Native;

namespace ModelLibrary.Inference;

/// <summary>
/// Points LLamaSharp at the llama.cpp build for this machine. LLamaSharp's netstandard2.0 build (the one a net8.0
/// assembly binds) only asks the runtime for "llama", and a host such as pwsh has no deps.json that names our
/// <c>runtimes/</c> folder, so the runtime would not find it. This resolver answers for LLamaSharp's assembly with
/// <c>runtimes/&lt;rid&gt;/native/&lt;level&gt;/libllama.so</c> (level: avx512, avx2, avx, noavx, the best this CPU has;
/// none on macOS and ARM). libllama's RUNPATH is <c>$ORIGIN</c>, so its ggml libraries load from the same folder.
/// </summary>
static class LlamaNativeLibrary
{
    static readonly object Gate = new();
    static string? configuredFolder;

    /// <summary>The folder holding the chosen libllama (null until <see cref="Configure"/>).</summary>
    public static string? Folder => configuredFolder;

    public static void Configure(string baseFolder)
    {
        lock (Gate)
        {
            if (configuredFolder is not null)
            {
                return;
            }

            var folder = Candidates(baseFolder).FirstOrDefault(f => File.Exists(Path.Combine(f, FileName("llama"))))
                ?? throw new DllNotFoundException($"No llama.cpp library for {RuntimeInformation.RuntimeIdentifier} under '{Path.Combine(baseFolder, "runtimes")}'.");
            NativeLibrary.SetDllImportResolver(typeof(NativeApi).Assembly, (name, _, _) =>
            {
                var file = Path.Combine(folder, FileName(name));
                return File.Exists(file) ? NativeLibrary.Load(file) : IntPtr.Zero;
            });
            configuredFolder = folder;
        }
    }

    /// <summary>Native folders to try, best first.</summary>
    internal static IEnumerable<string> Candidates(string baseFolder)
    {
        foreach (var rid in RuntimeIdentifiers())
        {
            var native = Path.Combine(baseFolder, "runtimes", rid, "native");
            foreach (var level in AvxLevels())
            {
                yield return Path.Combine(native, level);
            }

            yield return native;
        }
    }

    static IEnumerable<string> RuntimeIdentifiers()
    {
        var arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            var other => other.ToString().ToLowerInvariant(),
        };
        if (OperatingSystem.IsLinux())
        {
            // musl (Alpine) builds are separate; the runtime's own identifier says which libc this is.
            if (RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.OrdinalIgnoreCase))
            {
                yield return $"linux-musl-{arch}";
            }

            yield return $"linux-{arch}";
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return $"osx-{arch}";
        }
        else if (OperatingSystem.IsWindows())
        {
            yield return $"win-{arch}";
        }
    }

    static IEnumerable<string> AvxLevels()
    {
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            yield break;
        }

        if (Avx512F.IsSupported)
        {
            yield return "avx512";
        }

        if (Avx2.IsSupported)
        {
            yield return "avx2";
        }

        if (Avx.IsSupported)
        {
            yield return "avx";
        }

        yield return "noavx";
    }

    static string FileName(string name)
    {
        if (Path.HasExtension(name) && (name.EndsWith(".so", StringComparison.Ordinal) || name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".dylib", StringComparison.Ordinal)))
        {
            return name;
        }

        return OperatingSystem.IsWindows() ? name + ".dll" : OperatingSystem.IsMacOS() ? $"lib{name}.dylib" : $"lib{name}.so";
    }
}
