using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using ModelLibrary.Compatibility;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>Tab completion of model ids from every source, the registry and the disk.</summary>
public sealed class ModelIdCompleter : IArgumentCompleter
{
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

        return Completion.Matching(models.Select(m => (m.Id, $"{m.Name} [{m.Status}]")), wordToComplete);
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
