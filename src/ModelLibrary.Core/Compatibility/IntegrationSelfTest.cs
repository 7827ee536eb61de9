using System.Diagnostics;
using ModelLibrary.Configuration;

namespace ModelLibrary.Compatibility;

/// <summary>
/// The seed's ModelLibraryIntegrationTest as a service: discover models, check each provider's compatible
/// models, validate the setup (directories writable, registry reachable) and check each provider's health.
/// Steps never throw; a failure becomes a failed step with the reason.
/// </summary>
public sealed class IntegrationSelfTest
{
    readonly CompatibilityService compatibility;
    readonly LibraryConfiguration configuration;
    readonly Func<CancellationToken, Task<IReadOnlyList<ModelInfo>>> discoverModels;
    readonly Func<CancellationToken, Task<string>> checkRegistry;

    /// <param name="discoverModels">Returns the known models (catalog plus registry).</param>
    /// <param name="checkRegistry">Opens the registry and returns a short description (e.g. its path and row counts); throws when unreachable.</param>
    public IntegrationSelfTest(CompatibilityService compatibility, LibraryConfiguration configuration,
        Func<CancellationToken, Task<IReadOnlyList<ModelInfo>>> discoverModels, Func<CancellationToken, Task<string>> checkRegistry)
    {
        this.compatibility = compatibility;
        this.configuration = configuration;
        this.discoverModels = discoverModels;
        this.checkRegistry = checkRegistry;
    }

    public async Task<IntegrationTestReport> RunAsync(bool refreshHealth = true, IProgress<IntegrationTestStep>? progress = null, CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var steps = new List<IntegrationTestStep>();
        void Add(IntegrationTestStep step)
        {
            steps.Add(step);
            progress?.Report(step);
        }

        IReadOnlyList<ModelInfo> models = Array.Empty<ModelInfo>();
        Add(await StepAsync("Discover models", async () =>
        {
            models = await discoverModels(cancellationToken).ConfigureAwait(false);
            var local = models.Count(m => m.Status == ModelStatus.Local);
            return (models.Count > 0, $"{models.Count} models known, {local} local.", (object?)models.Count);
        }, "Run Get-ModelSource to check the catalogs, and register one that lists models with Register-ModelSource.").ConfigureAwait(false));

        var providers = compatibility.Providers.List();
        var compatibleByProvider = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in providers)
        {
            Add(await StepAsync($"Check compatibility ({provider.Name})", () =>
            {
                var suggestions = compatibility.GetSuggestions(provider.Name, models);
                compatibleByProvider[provider.Name] = suggestions.TotalCompatibleModels;
                var b = suggestions.Recommendations;
                var best = suggestions.Models.FirstOrDefault();
                var message = suggestions.TotalCompatibleModels == 0
                    ? $"No known model runs on {provider.Name} on this machine."
                    : $"{suggestions.TotalCompatibleModels} compatible ({b.Excellent.Length} excellent, {b.Good.Length} good, {b.Acceptable.Length} acceptable); best: {best!.ModelId} ({best.CompatibilityScore:0.00}).";
                return Task.FromResult((suggestions.TotalCompatibleModels > 0, message, (object?)suggestions));
            }, $"Run Test-ProviderCompatibility -Provider {provider.Name} on a model to see why it does not fit.",
               $"Register a model source that lists {string.Join(" or ", provider.SupportedFormats)} models with Register-ModelSource.").ConfigureAwait(false));
        }

        var directoriesOk = false;
        Add(await StepAsync("Validate directories", () =>
        {
            var problems = configuration.WritableRoots.Distinct(StringComparer.Ordinal).Select(CheckWritable).Where(p => p is not null).ToArray();
            directoriesOk = problems.Length == 0;
            return Task.FromResult((directoriesOk,
                directoriesOk ? $"Writable: {string.Join(", ", configuration.WritableRoots.Distinct(StringComparer.Ordinal))}." : string.Join(" ", problems),
                (object?)configuration.WritableRoots));
        }, "Check the folders' permissions and free space.",
           "Point the library elsewhere with Set-ModelLibraryConfiguration -ModelsDirectory (or the MODELS_DIR variable).").ConfigureAwait(false));

        var registryOk = false;
        Add(await StepAsync("Check registry", async () =>
        {
            var description = await checkRegistry(cancellationToken).ConfigureAwait(false);
            registryOk = true;
            return (true, description, (object?)null);
        }, "Close other programs that hold registry.db open, then try again.",
           "If the file is damaged, move registry.db aside; the library creates a new one (registered sources and providers must then be added again).").ConfigureAwait(false));

        var healthyWithModels = false;
        foreach (var provider in providers)
        {
            Add(await StepAsync($"Provider health ({provider.Name})", async () =>
            {
                var health = (await compatibility.CheckHealthAsync(provider.Name, refreshHealth, cancellationToken).ConfigureAwait(false));
                if (health.Healthy && compatibleByProvider.GetValueOrDefault(provider.Name) > 0)
                {
                    healthyWithModels = true;
                }

                return (health.Healthy, health.Message, (object?)health);
            }, HealthResolution(provider)).ConfigureAwait(false));
        }

        var discovered = steps[0].Success;
        return new IntegrationTestReport
        {
            Steps = steps.ToArray(),
            Success = discovered && directoriesOk && registryOk && healthyWithModels,
            Duration = total.Elapsed,
        };
    }

    static async Task<IntegrationTestStep> StepAsync(string name, Func<Task<(bool Success, string Message, object? Data)>> body, params string[] resolution)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var (success, message, data) = await body().ConfigureAwait(false);
            return new IntegrationTestStep
            {
                Name = name, Success = success, Message = message, Duration = watch.Elapsed, Data = data,
                ResolutionSteps = success ? Array.Empty<string>() : resolution,
            };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new IntegrationTestStep { Name = name, Success = false, Message = e.Message, Duration = watch.Elapsed, Data = e, ResolutionSteps = resolution };
        }
    }

    /// <summary>How to make a provider's health check pass, by the way it is checked.</summary>
    static string[] HealthResolution(ProviderCapabilities provider)
    {
        var check = provider.HealthCheck;
        var variables = check.EndpointVariables.Length > 0 ? $" or set {string.Join(" or ", check.EndpointVariables)} to its address" : "";
        return check.Method switch
        {
            ProbeMethod.Http => new[] { $"Start the {provider.Name} server{variables}." },
            ProbeMethod.Executable => new[] { $"Install {provider.Name} so that {string.Join(" or ", check.Executables)} is on PATH{(variables.Length > 0 ? $", or start its server and{variables[3..]}" : "")}." },
            ProbeMethod.PythonModule => new[] { $"Install the Python package that provides '{check.PythonModule}' (e.g. pip install {check.PythonModule}) for {string.Join(" or ", check.Executables)} on PATH." },
            _ => new[] { $"Register {provider.Name} again with a HealthCheck (Register-ModelProvider -Force) so its runtime can be checked." },
        };
    }

    /// <summary>Creates the directory if needed and writes then deletes a probe file in it; null when fine, else why not.</summary>
    static string? CheckWritable(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".write-test-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return $"{directory} is not writable: {e.Message}";
        }
    }
}
