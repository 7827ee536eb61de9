using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ModelLibrary.Compatibility;
using ModelLibrary.Library;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>
/// Tab completion of model ids from every source, the registry and the disk; for the commands that take a registry
/// reference as well (Start-ModelDownload, Get-LibraryModel), a word that starts like a known registry also completes
/// as one (<see cref="OciReferenceCompleter"/>).
/// </summary>
public sealed class ModelIdCompleter : IArgumentCompleter
{
    static readonly string[] TakesReferences = { "Start-ModelDownload", "Get-LibraryModel" };

    /// <summary>How long completion waits for any one catalog.</summary>
    static readonly TimeSpan CompletionBudget = TimeSpan.FromSeconds(1.5);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IEnumerable<ModelInfo> models;
        try
        {
            // Answers from what is cached or fast: a catalog that has not answered within the budget is left out
            // (and goes on being read in the background for the next time), never the others with it.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            models = ModelLibrarySession.Service.ListAsync(CompletionBudget, timeout.Token).GetAwaiter().GetResult().Models;
        }
        catch (Exception)
        {
            // Completion must never throw at the user; no suggestions is the honest answer.
            return Array.Empty<CompletionResult>();
        }

        var ids = Completion.Matching(models.Select(m => (m.Id, $"{m.Name} [{m.Status}]")), wordToComplete).ToList();
        if (!string.IsNullOrEmpty(wordToComplete) && TakesReferences.Contains(commandName, StringComparer.OrdinalIgnoreCase))
        {
            // References published from another machine are not in any listing here, but their registry is known.
            var listed = new HashSet<string>(ids.Select(r => r.CompletionText), StringComparer.OrdinalIgnoreCase);
            ids.AddRange(OciReferenceCompleter.Complete(wordToComplete).Where(r => !listed.Contains(r.CompletionText)));
        }

        return ids;
    }
}

/// <summary>
/// Tab completion of OCI references (<c>&lt;registry&gt;/&lt;repository&gt;[:&lt;tag&gt;]</c>, Publish-LibraryModel
/// -Destination): the registries of registered Oci sources, then the repositories published to or pulled from, then
/// a known repository's tags. Only what the library knows: no registry is asked, so a Tab press never waits on the
/// network (a registry's own listing is Get-LibraryModel -Source).
/// </summary>
public sealed class OciReferenceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) => Complete(wordToComplete);

    internal static IReadOnlyList<CompletionResult> Complete(string? wordToComplete)
    {
        IReadOnlyList<OciKnownReference> known;
        try
        {
            known = OciKnownReferences.Read(ModelLibrarySession.Service);
        }
        catch (Exception)
        {
            // Completion must never throw at the user; no suggestions is the honest answer.
            return Array.Empty<CompletionResult>();
        }

        var word = (wordToComplete ?? "").Trim('\'', '"');
        // A registry completes with its slash (the repository comes next); tags only once the repository is typed out.
        var candidates = known
            .Where(k => k.Tag is null || word.StartsWith($"{k.Registry}/{k.Repository}", StringComparison.OrdinalIgnoreCase))
            .Select(k => (Value: k.Repository is null ? k.Registry + "/" : k.Text, Tooltip: k.Note))
            .GroupBy(c => c.Value, StringComparer.OrdinalIgnoreCase).Select(g => g.First());
        return Completion.Matching(candidates, wordToComplete ?? "").ToList();
    }
}

/// <summary>Tab completion of provider names: built-in and registered (the provider registry), and those the catalogs name.</summary>
public sealed class ProviderCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IEnumerable<ProviderCapabilities> providers;
        try
        {
            providers = ModelLibrarySession.Service.ProviderRegistry.List();
        }
        catch (Exception)
        {
            // The built-in names are still worth offering when the registry cannot be read.
            providers = BuiltInProviders.All;
        }

        var names = providers.Select(p => (p.Name, Tooltip: p.Description ?? $"{p.Name} ({string.Join(", ", p.SupportedFormats)})")).ToList();
        try
        {
            names.AddRange(Catalog.BuiltInCatalogSource.Read().Models.Select(m => (m.Provider, m.Provider)));
        }
        catch (Exception)
        {
            // Completion must never throw at the user.
        }

        // First wins: the registry's entry (with its description) over a catalog's bare name.
        var unique = names.GroupBy(n => n.Name, StringComparer.OrdinalIgnoreCase).Select(g => g.First());
        return Completion.Matching(unique, wordToComplete);
    }
}

internal static class Completion
{
    public static IEnumerable<CompletionResult> Matching(IEnumerable<(string Value, string Tooltip)> candidates, string wordToComplete)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        return candidates.Where(c => pattern.IsMatch(c.Value)).OrderBy(c => c.Value, StringComparer.OrdinalIgnoreCase)
            .Select(c => new CompletionResult(Quote(c.Value), c.Value, CompletionResultType.ParameterValue, c.Tooltip));
    }

    static string Quote(string value) => value.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', '(', ')', ';', ',', '{', '}', '&', '|', '@', '#' }) >= 0
        ? "'" + value.Replace("'", "''") + "'"
        : value;
}

/// <summary>Tab completion of model formats (the Hub's library tags for them).</summary>
public sealed class FormatCompleter : IArgumentCompleter
{
    static readonly (string, string)[] Formats =
    {
        ("gguf", "GGUF files for llama.cpp, ollama, LM Studio"),
        ("safetensors", "safetensors weights for transformers, vLLM"),
        ("pytorch", "PyTorch checkpoints"),
        ("onnx", "ONNX models"),
    };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) => Completion.Matching(Formats, wordToComplete);
}
