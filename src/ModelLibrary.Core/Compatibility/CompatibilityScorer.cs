namespace ModelLibrary.Compatibility;

/// <summary>The machine as one scoring pass sees it, read once so that every model is scored against the same numbers.</summary>
public sealed record MachineSnapshot(long TotalMemory, long AvailableMemory, int ProcessorCount, bool MemoryOverridden, IMachineResources Source)
{
    /// <summary>GPUs (none when overridden by MaxMemory: a sized machine is RAM only).</summary>
    public IReadOnlyList<GpuDevice> Gpus { get; init; } = Array.Empty<GpuDevice>();
    /// <summary>RAM bandwidth in bytes per second; null when not measured.</summary>
    public double? MemoryBandwidth { get; init; }
    public string? Fingerprint { get; init; }

    /// <summary>GPU memory that adds to RAM (unified memory does not).</summary>
    public long GpuMemoryTotal => Gpus.Where(g => !g.UnifiedMemory).Sum(g => g.MemoryTotal);
    public long GpuMemoryFree => Gpus.Where(g => !g.UnifiedMemory).Sum(g => g.MemoryFree ?? g.MemoryTotal);

    /// <summary>Reads <paramref name="machine"/>; a <paramref name="maxMemory"/> stands in for both total and available RAM.</summary>
    public static MachineSnapshot Take(IMachineResources machine, long? maxMemory = null) => maxMemory is { } max
        // Sizing another machine: what else runs there is unknown, so all of its memory counts as available.
        ? new MachineSnapshot(max, max, machine.ProcessorCount, true, machine) { MemoryBandwidth = machine.MemoryBandwidth }
        : new MachineSnapshot(machine.TotalMemory, Math.Min(machine.AvailableMemory, machine.TotalMemory), machine.ProcessorCount, false, machine)
        {
            Gpus = machine.Gpus.ToArray(),
            MemoryBandwidth = machine.MemoryBandwidth,
            Fingerprint = machine.Fingerprint,
        };

    public MachineDescription Describe() => new()
    {
        TotalMemory = TotalMemory,
        AvailableMemory = AvailableMemory,
        ProcessorCount = ProcessorCount,
        MemoryBandwidth = MemoryBandwidth,
        Gpus = Gpus.ToArray(),
    };
}

/// <summary>
/// Scores one model against one provider. The score is the weighted sum of these factors, each 0..1:
/// <code>
///   Format               0.05   1 if the provider loads the format, else 0 (blocking)
///   RequiredCapabilities 0.05   share of the provider's required entries the model meets (missing = blocking;
///                               a model that lists no capabilities at all scores 0.5, not blocking)
///   OptionalCapabilities 0.05   share of the model's other capabilities the provider can use
///   SizeLimits           0.025  1 inside the provider's min/max size, 0 outside (blocking), 0.5 size unknown
///   Disk                 0.025  1 if local or free space ≥ 1.1 × size, 0.5 if it just fits or is unknown, else 0
///   Memory               0.20   fit margin against RAM (+ GPU memory): 1 if the need is ≤ 80% of what is free,
///                               0.7 if ≤ free, 0.3 if only ≤ the total; over the total it blocks, 0.5 unknown
///   Speed                (0)    expected tokens/s (bandwidth / bytes per token, or measured) on a log scale:
///                               1 token/s → 0, 10 tokens/s (faster than reading) and more → 1; 0.5 unknown
///   Quality              (0)    parameters (log scale, 100M → 0, 70B → 1) × what the quantization keeps
///   Usefulness           0.60   √(Speed × Quality): the quality one gets at a usable speed
/// </code>
/// Format, capabilities, size limits and memory are gates: when one fails the model is not compatible, and its
/// score is scaled by <see cref="IncompatibleScale"/> so that it is below every bucket. Among compatible models
/// memory margin and usefulness decide. Speed and quality multiply, so neither a tiny model that runs fast nor a
/// large one that crawls is Excellent: on a laptop a 3B model at 10 tokens/s is, on a machine with a large GPU a
/// 70B one; so the same catalog rates differently on a small and on a large machine.
/// </summary>
public static class CompatibilityScorer
{
    public const double FormatWeight = 0.05;
    public const double RequiredCapabilitiesWeight = 0.05;
    public const double OptionalCapabilitiesWeight = 0.05;
    public const double SizeLimitsWeight = 0.025;
    public const double DiskWeight = 0.025;
    public const double MemoryWeight = 0.20;
    /// <summary>Speed and quality are shown as factors of their own but count through <see cref="UsefulnessWeight"/>.</summary>
    public const double SpeedWeight = 0;
    public const double QualityWeight = 0;
    public const double UsefulnessWeight = 0.60;

    /// <summary>An incompatible model's weighted sum is multiplied by this, so it never reaches a bucket.</summary>
    public const double IncompatibleScale = 0.3;

    /// <summary>Tokens per second that score 0 and 1 on the speed factor (log scale between).</summary>
    public const double SlowestTokensPerSecond = 1;
    public const double FastEnoughTokensPerSecond = 10;

    /// <summary>Memory factor when the need fits in available memory but without the 20% to spare.</summary>
    public const double FitsAvailableScore = 0.7;
    /// <summary>Memory factor when the need fits only in total memory: other programs must give memory back first.</summary>
    public const double FitsTotalScore = 0.3;

    /// <summary>A need at or below this share of available memory leaves room for the OS and other programs.</summary>
    public const double ComfortableMemoryShare = 0.8;
    /// <summary>Free disk wanted per byte downloaded (room for the partial file and metadata).</summary>
    public const double DiskHeadroom = 1.1;

    const long GiB = 1024L * 1024 * 1024;

    /// <summary>Scores without recommendations (those need the catalog; see CompatibilityService).</summary>
    /// <param name="contextLength">Tokens of context to size the cache for; null: the model's, at most the default window.</param>
    public static ModelCompatibility Score(ModelInfo model, ProviderCapabilities provider, MachineSnapshot machine, string? providerDirectory, long? contextLength = null)
    {
        var format = ModelFormats.Resolve(model);
        var capabilities = model.Capabilities ?? Array.Empty<string>();
        var memory = MemoryEstimator.Estimate(model, provider, contextLength);
        var speed = SpeedEstimator.Estimate(model, memory, machine);
        var quality = QualityEstimator.Estimate(memory);
        var isLocal = model.Status == ModelStatus.Local;
        var downloadBytes = isLocal ? 0 : model.Size ?? memory.Weights;
        var freeDisk = providerDirectory is null ? null : machine.Source.GetAvailableDiskSpace(providerDirectory);
        var recommendedCores = RecommendedCores(memory.Total);
        var missing = MissingCapabilities(provider, capabilities);

        var factors = new[]
        {
            FormatFactor(provider, format),
            RequiredFactor(provider, capabilities, missing),
            OptionalFactor(provider, capabilities),
            SizeFactor(provider, model.Size ?? memory.Weights),
            DiskFactor(isLocal, downloadBytes, freeDisk, providerDirectory),
            MemoryFactor(provider, memory, machine),
            SpeedFactor(speed),
            QualityFactor(quality),
            UsefulnessFactor(speed, quality),
        };

        var compatible = !factors.Any(f => f.Blocking);
        var sum = Math.Clamp(factors.Sum(f => f.Contribution), 0, 1);
        var score = Math.Round(compatible ? sum : sum * IncompatibleScale, 3);
        return new ModelCompatibility
        {
            ModelId = model.Id,
            Provider = provider.Name,
            Compatible = compatible,
            CompatibilityScore = score,
            Reasons = factors.Select(f => f.Reason).ToArray(),
            Factors = factors,
            Requirements = new CompatibilityRequirements
            {
                Format = format,
                Capabilities = capabilities.ToArray(),
                RequiredCapabilities = provider.RequiredCapabilities.ToArray(),
                MissingCapabilities = missing,
                MemoryBytes = memory.Total,
                MemoryEstimate = memory,
                ContextLength = memory.ContextTokens,
                Speed = speed,
                TokensPerSecond = speed.TokensPerSecond is { } t ? Math.Round(t, 1) : null,
                Placement = speed.Placement,
                Quality = quality,
                DiskBytes = downloadBytes,
                RecommendedCpuCores = recommendedCores,
                TotalMemoryBytes = machine.TotalMemory,
                AvailableMemoryBytes = machine.AvailableMemory,
                GpuMemoryBytes = machine.GpuMemoryTotal,
                MemoryOverridden = machine.MemoryOverridden,
                FreeDiskBytes = freeDisk,
                DiskPath = providerDirectory,
                CpuCores = machine.ProcessorCount,
                MemoryShortfallBytes = memory.Total is { } need && need > machine.TotalMemory + machine.GpuMemoryTotal ? need - machine.TotalMemory - machine.GpuMemoryTotal : null,
            },
        };
    }

    /// <summary>Cores for generation at a usable speed; bigger models read more weights per token.</summary>
    public static int RecommendedCores(long? memoryNeed) => memoryNeed switch
    {
        null => 2,
        < 2 * GiB => 2,
        < 8 * GiB => 4,
        _ => 8,
    };

    /// <summary>Required entries (each possibly "a|b" alternatives) that none of the model's capabilities meets.</summary>
    public static string[] MissingCapabilities(ProviderCapabilities provider, IReadOnlyCollection<string> capabilities) =>
        capabilities.Count == 0
            ? Array.Empty<string>()
            : provider.RequiredCapabilities.Where(entry => !Alternatives(entry).Any(a => capabilities.Contains(a, StringComparer.OrdinalIgnoreCase))).ToArray();

    static string[] Alternatives(string entry) => entry.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    static CompatibilityFactor FormatFactor(ProviderCapabilities provider, string? format)
    {
        var formats = string.Join(", ", provider.SupportedFormats);
        if (format is null)
        {
            return Factor("Format", FormatWeight, 0, true, $"The model's file format is unknown, so {provider.Name} (which loads {formats}) may not be able to load it.");
        }

        return provider.SupportsFormat(format)
            ? Factor("Format", FormatWeight, 1, false, $"{provider.Name} loads {format} models.")
            : Factor("Format", FormatWeight, 0, true, $"{provider.Name} cannot load {format} models; it loads {formats}.");
    }

    static CompatibilityFactor RequiredFactor(ProviderCapabilities provider, IReadOnlyCollection<string> capabilities, string[] missing)
    {
        if (provider.RequiredCapabilities.Length == 0)
        {
            return Factor("RequiredCapabilities", RequiredCapabilitiesWeight, 1, false, $"{provider.Name} requires no particular capability.");
        }

        if (capabilities.Count == 0)
        {
            return Factor("RequiredCapabilities", RequiredCapabilitiesWeight, 0.5, false,
                $"The model lists no capabilities, so whether it offers what {provider.Name} requires ({Describe(provider.RequiredCapabilities)}) is unknown.");
        }

        if (missing.Length == 0)
        {
            return Factor("RequiredCapabilities", RequiredCapabilitiesWeight, 1, false,
                $"The model has the capabilities {provider.Name} requires ({Describe(provider.RequiredCapabilities)}).");
        }

        var met = (double)(provider.RequiredCapabilities.Length - missing.Length) / provider.RequiredCapabilities.Length;
        return Factor("RequiredCapabilities", RequiredCapabilitiesWeight, met, true,
            $"The model lacks {Describe(missing)}, which {provider.Name} requires; it offers {string.Join(", ", capabilities)}.");
    }

    static CompatibilityFactor OptionalFactor(ProviderCapabilities provider, IReadOnlyCollection<string> capabilities)
    {
        if (provider.RequiredCapabilities.Length == 0 && provider.OptionalCapabilities.Length == 0)
        {
            // A definition that names no capabilities has not said what it cannot use; do not hold that against the model.
            return Factor("OptionalCapabilities", OptionalCapabilitiesWeight, 1, false, $"{provider.Name} declares no capabilities, so all are assumed usable.");
        }

        // The capabilities beyond what the provider requires: how many of them can the provider put to use?
        var required = provider.RequiredCapabilities.SelectMany(Alternatives).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var extra = capabilities.Where(c => !required.Contains(c)).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        if (extra.Length == 0)
        {
            return Factor("OptionalCapabilities", OptionalCapabilitiesWeight, 1, false, "The model has no capabilities beyond the required ones.");
        }

        var used = extra.Where(c => provider.OptionalCapabilities.Contains(c, StringComparer.OrdinalIgnoreCase)).ToArray();
        var unused = extra.Except(used, StringComparer.OrdinalIgnoreCase).ToArray();
        var share = (double)used.Length / extra.Length;
        return unused.Length == 0
            ? Factor("OptionalCapabilities", OptionalCapabilitiesWeight, share, false, $"{provider.Name} supports all of the model's further capabilities ({string.Join(", ", used)}).")
            : Factor("OptionalCapabilities", OptionalCapabilitiesWeight, share, false,
                $"{provider.Name} supports {used.Length} of the model's {extra.Length} further capabilities; not {string.Join(", ", unused)}.");
    }

    static CompatibilityFactor SizeFactor(ProviderCapabilities provider, long? size)
    {
        var limits = provider.ModelSizeLimits;
        if (limits.MinSize is null && limits.MaxSize is null)
        {
            return Factor("SizeLimits", SizeLimitsWeight, 1, false, $"{provider.Name} sets no model size limits.");
        }

        if (size is not { } s)
        {
            return Factor("SizeLimits", SizeLimitsWeight, 0.5, false, $"The model's size is unknown, so {provider.Name}'s size limits ({DescribeLimits(limits)}) could not be checked.");
        }

        if (limits.MaxSize is { } max && s > max)
        {
            return Factor("SizeLimits", SizeLimitsWeight, 0, true, $"The model ({ByteSize.Format(s)}) is larger than {provider.Name}'s limit of {ByteSize.Format(max)}.");
        }

        if (limits.MinSize is { } min && s < min)
        {
            return Factor("SizeLimits", SizeLimitsWeight, 0, true, $"The model ({ByteSize.Format(s)}) is smaller than {provider.Name}'s minimum of {ByteSize.Format(min)}.");
        }

        return Factor("SizeLimits", SizeLimitsWeight, 1, false, $"The model ({ByteSize.Format(s)}) is within {provider.Name}'s size limits ({DescribeLimits(limits)}).");
    }

    static CompatibilityFactor MemoryFactor(ProviderCapabilities provider, MemoryEstimate memory, MachineSnapshot machine)
    {
        var machineWord = machine.MemoryOverridden ? "the given memory limit" : "this machine";
        if (provider.MemoryRequirements.Min is { } providerMin && machine.TotalMemory < providerMin)
        {
            return Factor("Memory", MemoryWeight, 0, true,
                $"{provider.Name} needs at least {ByteSize.Format(providerMin)} of memory; {machineWord} has {ByteSize.Format(machine.TotalMemory)}.");
        }

        if (memory.Total is not { } need)
        {
            return Factor("Memory", MemoryWeight, 0.5, false, $"The model's memory need is unknown: {memory.Explanation}.");
        }

        // A GPU's own memory adds to RAM: llama.cpp offloads the layers that fit and keeps the rest in RAM.
        var gpuTotal = machine.GpuMemoryTotal;
        var total = machine.TotalMemory + gpuTotal;
        var available = machine.AvailableMemory + machine.GpuMemoryFree;
        var needText = $"Needs about {ByteSize.Format(need)} of memory ({memory.Explanation})";
        var gpuText = gpuTotal > 0 ? $" + {ByteSize.Format(gpuTotal)} of GPU memory" : "";
        var haveText = machine.MemoryOverridden
            ? $"the given limit is {ByteSize.Format(machine.TotalMemory)}"
            : $"{ByteSize.Format(machine.AvailableMemory)} of {ByteSize.Format(machine.TotalMemory)} RAM is available{gpuText}";
        var offload = gpuTotal <= 0 ? ""
            : need <= machine.GpuMemoryFree * SpeedEstimator.UsableGpuShare ? " Full GPU offload is possible."
            : " It does not fit in GPU memory alone, so part of it runs on the CPU.";

        if (need > total)
        {
            return Factor("Memory", MemoryWeight, 0, true,
                $"{needText}, more than {machineWord}'s {ByteSize.Format(machine.TotalMemory)}{(gpuTotal > 0 ? $" RAM{gpuText}" : "")} in all: {ByteSize.Format(need - total)} short.");
        }

        if (need <= available * ComfortableMemoryShare)
        {
            return Factor("Memory", MemoryWeight, 1, false, $"{needText}; {haveText}, which leaves room to spare.{offload}");
        }

        if (need <= available)
        {
            return Factor("Memory", MemoryWeight, FitsAvailableScore, false, $"{needText}; {haveText}, so it fits with little to spare.{offload}");
        }

        return Factor("Memory", MemoryWeight, FitsTotalScore, false, $"{needText}; {haveText}, so other programs must free memory first.{offload}");
    }

    static CompatibilityFactor SpeedFactor(SpeedEstimate speed)
    {
        if (speed.TokensPerSecond is not { } tps)
        {
            return Factor("Speed", SpeedWeight, 0.5, false, $"Speed unknown: {speed.Explanation}.");
        }

        var score = SpeedScore(speed);
        var verdict = tps >= FastEnoughTokensPerSecond ? "fast" : tps >= 5 ? "usable" : tps >= 2 ? "slow" : "very slow";
        return Factor("Speed", SpeedWeight, score, false, $"Generation {verdict}: {speed.Explanation}.");
    }

    static double SpeedScore(SpeedEstimate speed) => speed.TokensPerSecond is { } tps
        ? Math.Round(Math.Clamp(Math.Log(tps / SlowestTokensPerSecond) / Math.Log(FastEnoughTokensPerSecond / SlowestTokensPerSecond), 0, 1), 3)
        : 0.5;

    static CompatibilityFactor UsefulnessFactor(SpeedEstimate speed, QualityEstimate quality)
    {
        var score = Math.Round(Math.Sqrt(SpeedScore(speed) * quality.Score), 3);
        var verdict = score >= 0.7 ? "a strong choice here" : score >= 0.5 ? "a fair choice here" : score >= 0.3 ? "a weak choice here" : "a poor choice here";
        return Factor("Usefulness", UsefulnessWeight, score, false,
            $"Speed × quality: {score:0.00}, {verdict}{(speed.TokensPerSecond is null ? " (speed unknown)" : "")}.");
    }

    static CompatibilityFactor QualityFactor(QualityEstimate quality) =>
        Factor("Quality", QualityWeight, quality.Score, false, $"Quality {quality.Score:0.00} of 1: {quality.Explanation}.");

    static CompatibilityFactor DiskFactor(bool isLocal, long? downloadBytes, long? freeDisk, string? path)
    {
        if (isLocal)
        {
            return Factor("Disk", DiskWeight, 1, false, "The model is already on disk.");
        }

        if (downloadBytes is not { } need || freeDisk is not { } free)
        {
            return Factor("Disk", DiskWeight, 0.5, false, downloadBytes is null
                ? "The download size is unknown, so free disk space could not be checked."
                : "Free disk space could not be read, so whether the download fits is unknown.");
        }

        var where = path is null ? "" : $" on the volume of {path}";
        if (free >= need * DiskHeadroom)
        {
            return Factor("Disk", DiskWeight, 1, false, $"The download ({ByteSize.Format(need)}) fits in the {ByteSize.Format(free)} free{where}.");
        }

        return free >= need
            ? Factor("Disk", DiskWeight, 0.5, false, $"The download ({ByteSize.Format(need)}) only just fits in the {ByteSize.Format(free)} free{where}.")
            : Factor("Disk", DiskWeight, 0, false, $"The download ({ByteSize.Format(need)}) does not fit in the {ByteSize.Format(free)} free{where}.");
    }

    static CompatibilityFactor Factor(string name, double weight, double score, bool blocking, string reason) =>
        new() { Name = name, Weight = weight, Score = score, Blocking = blocking, Reason = reason };

    static string Describe(IEnumerable<string> entries) =>
        string.Join(", ", entries.Select(e => string.Join(" or ", Alternatives(e))));

    static string DescribeLimits(ModelSizeLimits limits) => (limits.MinSize, limits.MaxSize) switch
    {
        ({ } min, { } max) => $"{ByteSize.Format(min)} to {ByteSize.Format(max)}",
        ({ } min, null) => $"at least {ByteSize.Format(min)}",
        (null, { } max) => $"at most {ByteSize.Format(max)}",
        _ => "none",
    };
}
