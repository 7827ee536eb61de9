using ModelLibrary.Configuration;

namespace ModelLibrary.Compatibility;

/// <summary>Options for <see cref="CompatibilityService.GetSuggestions"/>.</summary>
public sealed class SuggestionOptions
{
    /// <summary>Score against this much memory instead of this machine's RAM (sizing another machine).</summary>
    public long? MaxMemory { get; init; }
    /// <summary>Leave out models whose download (or, when unknown, weights) is larger than this many bytes.</summary>
    public long? MaxSize { get; init; }
    /// <summary>Tokens of context to size the key/value cache for; null: each model's, at most the default window.</summary>
    public long? ContextLength { get; init; }
}

/// <summary>
/// The seed's ProviderModelCompatibilityService: checks models against providers, suggests models for a
/// provider, and reports integration status. The model list is passed in by the caller (catalog + registry).
/// </summary>
public sealed class CompatibilityService
{
    readonly ProviderRegistry providers;
    readonly IMachineResources machine;
    readonly Func<string, string?> providerDirectory;
    readonly ProviderHealthMonitor health;

    /// <param name="providers">Built-in and registered providers.</param>
    /// <param name="machine">This machine; defaults to the operating system's figures.</param>
    /// <param name="configuration">Where providers' models land (for free disk); null skips the disk check.</param>
    /// <param name="health">Health checks with their cache; one per session so the cache is shared.</param>
    public CompatibilityService(ProviderRegistry providers, IMachineResources? machine = null, LibraryConfiguration? configuration = null, ProviderHealthMonitor? health = null)
    {
        this.providers = providers ?? throw new ArgumentNullException(nameof(providers));
        this.machine = machine ?? SystemMachineResources.Instance;
        providerDirectory = configuration is null ? _ => null : configuration.ProviderDirectory;
        this.health = health ?? new ProviderHealthMonitor();
    }

    public ProviderRegistry Providers => providers;

    /// <summary>Checks the model with this exact id.</summary>
    /// <exception cref="ModelLibraryException">ModelNotFound, ProviderNotFound.</exception>
    public ModelCompatibility CheckCompatibility(string modelId, string provider, IReadOnlyList<ModelInfo> models, long? maxMemory = null, long? contextLength = null)
    {
        var model = models.FirstOrDefault(m => string.Equals(m.Id, modelId, StringComparison.Ordinal))
            ?? throw Errors.ModelNotFound(modelId);
        return CheckCompatibility(model, provider, models, maxMemory, contextLength);
    }

    /// <summary>Scores <paramref name="model"/> on <paramref name="provider"/>; <paramref name="models"/> supplies alternatives for the recommendations.</summary>
    /// <exception cref="ModelLibraryException">ProviderNotFound.</exception>
    public ModelCompatibility CheckCompatibility(ModelInfo model, string provider, IReadOnlyList<ModelInfo> models, long? maxMemory = null, long? contextLength = null)
    {
        var capabilities = providers.Get(provider);
        var snapshot = MachineSnapshot.Take(machine, maxMemory);
        return Check(model, capabilities, new Context(snapshot, models, providers.List(), providerDirectory, contextLength));
    }

    /// <summary>
    /// Of one model's variants (quantizations and formats of one family, e.g. a Hub repository's GGUF files), the one
    /// that suits <paramref name="provider"/> here best: the highest-scoring compatible variant, ties to the more
    /// bits per weight. Null when none is compatible.
    /// </summary>
    /// <exception cref="ModelLibraryException">ProviderNotFound.</exception>
    public ModelSuggestion? BestVariant(string provider, IReadOnlyList<ModelInfo> variants, SuggestionOptions? options = null)
    {
        options ??= new SuggestionOptions();
        var capabilities = providers.Get(provider);
        var snapshot = MachineSnapshot.Take(machine, options.MaxMemory);
        var context = new Context(snapshot, variants, providers.List(), providerDirectory, options.ContextLength);
        return Best(variants.Select(m => ToSuggestion(m, CompatibilityScorer.Score(m, capabilities, snapshot, context.Directory(capabilities.Name), options.ContextLength))));
    }

    /// <summary>The best of each family among <paramref name="suggestions"/> (families as <see cref="ModelFamily"/> groups them), best first.</summary>
    public static ModelSuggestion[] BestOfEachFamily(IReadOnlyList<ModelSuggestion> suggestions, IReadOnlyList<ModelInfo> models)
    {
        var byId = models.GroupBy(m => m.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var families = new List<List<ModelSuggestion>>();
        foreach (var suggestion in suggestions.Where(s => byId.ContainsKey(s.ModelId)))
        {
            var model = byId[suggestion.ModelId];
            var family = families.FirstOrDefault(f => ModelFamily.SameFamily(byId[f[0].ModelId], model));
            if (family is null)
            {
                families.Add(new List<ModelSuggestion> { suggestion });
            }
            else
            {
                family.Add(suggestion);
            }
        }

        return families.Select(f => Best(f)!).Where(b => b is not null)
            .OrderByDescending(s => s.CompatibilityScore).ThenBy(s => s.ModelId, StringComparer.Ordinal).ToArray();
    }

    static ModelSuggestion? Best(IEnumerable<ModelSuggestion> variants) => variants
        .Where(s => s.Compatibility.Compatible)
        .OrderByDescending(s => s.CompatibilityScore)
        .ThenByDescending(s => s.Compatibility.Requirements.MemoryEstimate.BitsPerWeight ?? 0)
        .ThenByDescending(s => s.IsLocal)
        .FirstOrDefault();

    static ModelSuggestion ToSuggestion(ModelInfo model, ModelCompatibility result) => new()
    {
        ModelId = model.Id,
        Name = model.Name,
        Rating = SuggestionThresholds.Rate(result.CompatibilityScore),
        CompatibilityScore = result.CompatibilityScore,
        IsLocal = model.Status == ModelStatus.Local,
        Status = model.Status,
        Format = result.Requirements.Format,
        Quantization = result.Requirements.MemoryEstimate.Quantization,
        Parameters = model.Metadata?.Parameters,
        Size = model.Size,
        MemoryBytes = result.Requirements.MemoryBytes,
        TokensPerSecond = result.Requirements.TokensPerSecond,
        Placement = result.Requirements.Placement,
        Compatibility = result,
    };

    /// <summary>The compatible models for a provider, rated and sorted best first.</summary>
    /// <exception cref="ModelLibraryException">ProviderNotFound.</exception>
    public ProviderSuggestions GetSuggestions(string provider, IReadOnlyList<ModelInfo> models, SuggestionOptions? options = null)
    {
        options ??= new SuggestionOptions();
        var capabilities = providers.Get(provider);
        var snapshot = MachineSnapshot.Take(machine, options.MaxMemory);
        var context = new Context(snapshot, models, providers.List(), providerDirectory, options.ContextLength);

        var suggestions = models
            .Where(m => options.MaxSize is not { } max || DownloadSize(m, capabilities) is not { } size || size <= max)
            .Select(m => (Model: m, Result: Check(m, capabilities, context)))
            .Where(x => x.Result.Compatible)
            .Select(x => ToSuggestion(x.Model, x.Result))
            // Best first; among equals a model already here beats one to download, and a lighter one beats a heavier.
            .OrderByDescending(s => s.CompatibilityScore)
            .ThenByDescending(s => s.IsLocal)
            .ThenBy(s => s.MemoryBytes ?? long.MaxValue)
            .ThenBy(s => s.ModelId, StringComparer.Ordinal)
            .ToArray();

        string[] Bucket(SuggestionRating rating) => suggestions.Where(s => s.Rating == rating).Select(s => s.ModelId).ToArray();
        return new ProviderSuggestions
        {
            Provider = capabilities.Name,
            ProviderCapabilities = capabilities,
            Recommendations = new SuggestionBuckets
            {
                Excellent = Bucket(SuggestionRating.Excellent),
                Good = Bucket(SuggestionRating.Good),
                Acceptable = Bucket(SuggestionRating.Acceptable),
            },
            TotalCompatibleModels = suggestions.Length,
            Models = suggestions,
            MemoryBytes = snapshot.TotalMemory,
            MaxMemory = options.MaxMemory,
            MaxSize = options.MaxSize,
            ContextLength = options.ContextLength,
            BestOfFamily = BestOfEachFamily(suggestions, models),
            Machine = snapshot.Describe(),
        };
    }

    /// <summary>Every provider's health (checked in parallel, cached briefly) and its compatible and local models.</summary>
    /// <param name="include">Checks only the providers it accepts (the totals then cover only those); null checks all.</param>
    public async Task<IntegrationStatus> GetIntegrationStatusAsync(IReadOnlyList<ModelInfo> models, bool refresh = false, CancellationToken cancellationToken = default,
        Func<ProviderCapabilities, bool>? include = null)
    {
        var all = providers.List().Where(p => include is null || include(p)).ToList();
        var healthResults = await health.CheckAsync(all, refresh, cancellationToken).ConfigureAwait(false);
        var snapshot = MachineSnapshot.Take(machine);
        var compatibleIds = new HashSet<string>(StringComparer.Ordinal);
        var statuses = new List<ProviderIntegrationStatus>();

        foreach (var (provider, probe) in all.Zip(healthResults))
        {
            // Recommendations are not needed here, only the verdicts.
            var compatible = models.Where(m => CompatibilityScorer.Score(m, provider, snapshot, providerDirectory(provider.Name)).Compatible).ToArray();
            var local = compatible.Where(m => m.Status == ModelStatus.Local).Select(m => m.Id).ToArray();
            compatibleIds.UnionWith(compatible.Select(m => m.Id));
            var status = probe.Healthy
                ? local.Length > 0 ? IntegrationHealth.Healthy : IntegrationHealth.Degraded
                : IntegrationHealth.Unhealthy;
            statuses.Add(new ProviderIntegrationStatus
            {
                Name = provider.Name,
                Healthy = probe.Healthy,
                HasCompatibleModels = compatible.Length > 0,
                HasLocalModels = local.Length > 0,
                LocalModelsCount = local.Length,
                AvailableForDownload = compatible.Length - local.Length,
                TotalCompatible = compatible.Length,
                Status = status,
                LocalModels = local,
                ProbeMethod = probe.ProbeMethod,
                Endpoint = probe.Endpoint,
                Message = probe.Message,
                Latency = probe.Latency,
                Health = probe,
            });
        }

        var overall = statuses.Any(s => s.Status == IntegrationHealth.Healthy) ? IntegrationHealth.Healthy
            : statuses.Any(s => s.Healthy || s.HasLocalModels) ? IntegrationHealth.Degraded
            : IntegrationHealth.Unhealthy;

        return new IntegrationStatus
        {
            Providers = statuses.ToArray(),
            OverallStatus = overall,
            TotalProviders = statuses.Count,
            HealthyProviders = statuses.Count(s => s.Healthy),
            ProvidersWithModels = statuses.Count(s => s.HasLocalModels),
            TotalCompatibleModels = compatibleIds.Count,
            CheckedAt = DateTimeOffset.UtcNow,
            Machine = snapshot.Describe(),
        };
    }

    /// <summary>The health of every provider, without model counts.</summary>
    public Task<IReadOnlyList<ProviderHealth>> CheckHealthAsync(bool refresh = false, CancellationToken cancellationToken = default) =>
        health.CheckAsync(providers.List(), refresh, cancellationToken);

    /// <summary>One provider's health (cached like the others).</summary>
    /// <exception cref="ModelLibraryException">ProviderNotFound.</exception>
    public Task<ProviderHealth> CheckHealthAsync(string provider, bool refresh = false, CancellationToken cancellationToken = default) =>
        health.CheckAsync(providers.Get(provider), refresh, cancellationToken);

    sealed record Context(MachineSnapshot Machine, IReadOnlyList<ModelInfo> Models, IReadOnlyList<ProviderCapabilities> Providers, Func<string, string?> Directory, long? ContextLength);

    static long? DownloadSize(ModelInfo model, ProviderCapabilities provider) =>
        model.Size ?? MemoryEstimator.Estimate(model, provider).Weights;

    static ModelCompatibility Check(ModelInfo model, ProviderCapabilities provider, Context context)
    {
        var result = CompatibilityScorer.Score(model, provider, context.Machine, context.Directory(provider.Name), context.ContextLength);
        return new ModelCompatibility
        {
            ModelId = result.ModelId,
            Provider = result.Provider,
            Compatible = result.Compatible,
            CompatibilityScore = result.CompatibilityScore,
            Reasons = result.Reasons,
            Requirements = result.Requirements,
            Factors = result.Factors,
            Recommendations = Recommend(model, provider, result, context).Distinct().ToArray(),
        };
    }

    static IEnumerable<string> Recommend(ModelInfo model, ProviderCapabilities provider, ModelCompatibility result, Context context)
    {
        var factor = result.Factors.ToDictionary(f => f.Name);
        var requirements = result.Requirements;
        var format = requirements.Format;

        if (factor["Format"].Blocking)
        {
            // The same model in a format this provider loads is the least disruptive fix.
            var variant = BestVariant(model, provider, context, m => provider.SupportsFormat(ModelFormats.Resolve(m)));
            if (variant is not null)
            {
                yield return $"Use '{variant.Model.Id}' instead: the same model as {ModelFormats.Resolve(variant.Model)}, which {provider.Name} loads{NeedsText(variant.Result)}.";
            }

            var others = context.Providers.Where(p => p.Name != provider.Name && p.SupportsFormat(format)).Select(p => p.Name).ToArray();
            if (format is not null && others.Length > 0)
            {
                yield return $"Use {Quote(others)}, which load{(others.Length == 1 ? "s" : "")} {format} models (Test-ProviderCompatibility -Provider {others[0]}).";
            }
            else if (format is null)
            {
                yield return "Set the model's format (gguf, safetensors, ...) in its catalog entry so it can be checked.";
            }
        }

        if (factor["RequiredCapabilities"].Blocking)
        {
            var others = context.Providers
                .Where(p => p.Name != provider.Name && p.SupportsFormat(format)
                    && CompatibilityScorer.MissingCapabilities(p, requirements.Capabilities).Length == 0)
                .Select(p => p.Name).ToArray();
            yield return others.Length > 0
                ? $"Use {Quote(others)}, which serve{(others.Length == 1 ? "s" : "")} models with {string.Join(", ", requirements.Capabilities)}."
                : $"Choose a model with {string.Join(", ", requirements.MissingCapabilities.Select(c => c.Replace("|", " or ")))} for {provider.Name}.";
        }

        if (factor["SizeLimits"].Blocking)
        {
            var size = model.Size ?? requirements.MemoryEstimate.Weights;
            var others = context.Providers
                .Where(p => p.Name != provider.Name && p.SupportsFormat(format) && size is { } s && p.ModelSizeLimits.Contains(s))
                .Select(p => p.Name).ToArray();
            if (others.Length > 0)
            {
                yield return $"Use {Quote(others)}, whose size limits allow this model.";
            }
        }

        var memory = factor["Memory"];
        if (memory.Score < 1 && requirements.MemoryBytes is { } need)
        {
            // A smaller quantization of the same model that fits comfortably; the largest such, to lose the least quality.
            var smaller = BestVariant(model, provider, context,
                m => m.Id != model.Id && provider.SupportsFormat(ModelFormats.Resolve(m)),
                r => r.Requirements.MemoryBytes is { } n && n < need && r.Factors.First(f => f.Name == "Memory").Score >= 1);
            if (smaller is not null)
            {
                var quant = smaller.Result.Requirements.MemoryEstimate.Quantization ?? ModelFormats.Resolve(smaller.Model);
                yield return $"Use '{smaller.Model.Id}' ({quant}{NeedsText(smaller.Result, parenthesized: false)}): a smaller quantization of the same model that fits in the available memory.";
            }

            if (need > requirements.TotalMemoryBytes)
            {
                yield return $"Choose a smaller model: this one needs about {ByteSize.Format(need)}, more than the {ByteSize.Format(requirements.TotalMemoryBytes)} of memory {(requirements.MemoryOverridden ? "allowed" : "this machine has")}.";
            }
            else if (need > requirements.AvailableMemoryBytes && !requirements.MemoryOverridden)
            {
                yield return $"Close other programs to free about {ByteSize.Format(need - requirements.AvailableMemoryBytes)} of memory before loading it.";
            }
        }
        else if (memory.Blocking)
        {
            yield return $"{provider.Name} needs more memory than {(requirements.MemoryOverridden ? "allowed" : "this machine has")}; use a lighter provider such as llama-cpp.";
        }

        if (factor["Disk"].Score == 0 && requirements.DiskBytes is { } disk && requirements.FreeDiskBytes is { } free)
        {
            yield return $"Free at least {ByteSize.Format((long)(disk * CompatibilityScorer.DiskHeadroom) - free)} on the volume of {requirements.DiskPath}, or move the library with Set-ModelLibraryConfiguration -ModelsDirectory.";
        }

        var speed = factor["Speed"];
        if (result.Compatible && speed.Score < 0.5 && requirements.TokensPerSecond is { } tps)
        {
            // A lower quantization of the same model reads fewer bytes per token.
            var faster = BestVariant(model, provider, context,
                m => m.Id != model.Id && provider.SupportsFormat(ModelFormats.Resolve(m)),
                r => r.Requirements.TokensPerSecond is { } t && t > tps * 1.2);
            yield return faster is not null
                ? $"Expect about {tps:0.#} tokens/s; '{faster.Model.Id}' ({faster.Result.Requirements.MemoryEstimate.Quantization}) would give about {faster.Result.Requirements.TokensPerSecond:0.#}."
                : $"Expect about {tps:0.#} tokens/s here; a smaller model or quantization reads fewer bytes per token and is faster.";
        }

        if (result.Compatible && model.Status == ModelStatus.Local && !requirements.Speed.Measured && ModelFormats.Resolve(model) == "gguf")
        {
            yield return $"Measure its real speed here with Measure-LibraryModel -Id {model.Id}; later scores use the measurement.";
        }

        // Among the same model's quantizations, name the one that suits this machine best when it is another.
        var best = BestVariant(model, provider, context, m => provider.SupportsFormat(ModelFormats.Resolve(m)));
        if (best is not null && best.Result.CompatibilityScore > result.CompatibilityScore)
        {
            var quant = best.Result.Requirements.MemoryEstimate.Quantization ?? ModelFormats.Resolve(best.Model);
            yield return $"The best of this model's variants here is '{best.Model.Id}' ({quant}, score {best.Result.CompatibilityScore:0.00}{NeedsText(best.Result, parenthesized: false)}).";
        }

        if (result.Compatible && model.Status != ModelStatus.Local)
        {
            yield return $"Download it with Start-ModelDownload -Id {model.Id}.";
        }
        else if (result.Compatible)
        {
            yield return $"It is ready to use with {provider.Name}.";
        }
    }

    sealed record Variant(ModelInfo Model, ModelCompatibility Result);

    /// <summary>The same-family model passing <paramref name="filter"/> whose compatible score is highest (then largest memory need: least quantized).</summary>
    static Variant? BestVariant(ModelInfo model, ProviderCapabilities provider, Context context, Func<ModelInfo, bool> filter, Func<ModelCompatibility, bool>? accept = null) =>
        context.Models
            .Where(m => m.Id != model.Id && filter(m) && ModelFamily.SameFamily(model, m))
            .Select(m => new Variant(m, CompatibilityScorer.Score(m, provider, context.Machine, context.Directory(provider.Name), context.ContextLength)))
            .Where(v => v.Result.Compatible && (accept is null || accept(v.Result)))
            .OrderByDescending(v => v.Result.CompatibilityScore)
            .ThenByDescending(v => v.Result.Requirements.MemoryBytes ?? 0)
            .ThenByDescending(v => v.Model.Status == ModelStatus.Local)
            .FirstOrDefault();

    static string NeedsText(ModelCompatibility result, bool parenthesized = true) =>
        result.Requirements.MemoryBytes is { } n
            ? parenthesized ? $" (needs about {ByteSize.Format(n)})" : $", needs about {ByteSize.Format(n)}"
            : "";

    static string Quote(IReadOnlyList<string> names) => names.Count switch
    {
        1 => $"the provider '{names[0]}'",
        _ => "the providers " + string.Join(", ", names.Take(names.Count - 1).Select(n => $"'{n}'")) + $" or '{names[^1]}'",
    };
}
