using System.Reflection;
using System.Runtime.Loader;

namespace ModelLibrary.Inference;

/// <summary>
/// Loads the inference engine from the companion module's folder on first use: its assembly, the assemblies beside
/// it (LLamaSharp and its dependencies) as they are asked for, and (inside the engine) the native llama.cpp
/// library from its <c>runtimes/</c> folder. Nothing of it is loaded when the module is imported.
/// </summary>
public static class InferenceEngineLoader
{
    /// <summary>The engine assembly's file name in the companion module's folder.</summary>
    public const string AssemblyFileName = "ModelLibrary.Inference.dll";
    /// <summary>The companion module's name (its folder and manifest).</summary>
    public const string ModuleName = "ModelLibrary.Inference";

    static readonly object Gate = new();
    static IInferenceEngine? loaded;
    static string? loadedFrom;

    /// <summary>The folder of the first candidate that holds the engine assembly, or null.</summary>
    public static string? Find(IEnumerable<string> candidates) =>
        candidates.Where(c => !string.IsNullOrWhiteSpace(c)).Select(Path.GetFullPath).FirstOrDefault(c => File.Exists(Path.Combine(c, AssemblyFileName)));

    /// <summary>
    /// Folders to look in: beside the module (<c>../ModelLibrary.Inference</c>, as the build lays them out), and
    /// <c>ModelLibrary.Inference</c> (or its version folders) under each module path, as PSResourceGet installs it.
    /// </summary>
    public static IEnumerable<string> Candidates(string? moduleBase, string? psModulePath)
    {
        if (!string.IsNullOrEmpty(moduleBase))
        {
            yield return Path.Combine(moduleBase, "..", ModuleName);
            yield return Path.Combine(moduleBase, "..", "..", ModuleName);
        }

        foreach (var root in (psModulePath ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var folder = Path.Combine(root, ModuleName);
            yield return folder;
            string[] versions;
            try
            {
                versions = Directory.Exists(folder) ? Directory.GetDirectories(folder) : Array.Empty<string>();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                versions = Array.Empty<string>();
            }

            foreach (var version in versions.OrderByDescending(v => Version.TryParse(Path.GetFileName(v), out var parsed) ? parsed : new Version(0, 0)))
            {
                yield return version;
            }
        }
    }

    /// <summary>Loads (once per process) the engine in <paramref name="folder"/>.</summary>
    /// <exception cref="ModelLibraryException">InferenceEngineNotFound when the folder holds no engine or it does not load.</exception>
    public static IInferenceEngine Load(string? folder)
    {
        lock (Gate)
        {
            if (loaded is not null)
            {
                return loaded;
            }

            if (folder is null || !File.Exists(Path.Combine(folder, AssemblyFileName)))
            {
                throw Errors.InferenceEngineNotFound(folder);
            }

            try
            {
                var full = Path.GetFullPath(folder);
                // An isolated load context: LLamaSharp and its dependencies (System.Text.Json 10 and others) load from
                // the engine's folder without clashing with the versions the host (pwsh) already has; only Core, the
                // interface between the two, is the host's.
                var context = new EngineLoadContext(full);
                var assembly = context.LoadFromAssemblyPath(Path.Combine(full, AssemblyFileName));
                var type = assembly.GetTypes().First(t => typeof(IInferenceEngine).IsAssignableFrom(t) && !t.IsAbstract);
                loaded = (IInferenceEngine)Activator.CreateInstance(type, full)!;
                loadedFrom = full;
                return loaded;
            }
            catch (Exception e) when (e is IOException or BadImageFormatException or ReflectionTypeLoadException or InvalidOperationException or TargetInvocationException or MissingMethodException)
            {
                throw Errors.InferenceEngineNotFound(folder, e);
            }
        }
    }

    /// <summary>Where the loaded engine came from (null before the first load).</summary>
    public static string? LoadedFrom => loadedFrom;

    sealed class EngineLoadContext : AssemblyLoadContext
    {
        static readonly string CoreName = typeof(IInferenceEngine).Assembly.GetName().Name!;
        readonly string folder;

        public EngineLoadContext(string folder) : base("ModelLibrary.Inference") => this.folder = folder;

        protected override Assembly? Load(AssemblyName name)
        {
            if (name.Name == CoreName)
            {
                return null;
            }

            var candidate = Path.Combine(folder, name.Name + ".dll");
            return File.Exists(candidate) ? LoadFromAssemblyPath(candidate) : null;
        }
    }
}
