using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using ModelLibrary.Net;

namespace ModelLibrary.Compatibility;

/// <summary>Checks one provider's runtime.</summary>
public interface IProviderHealthProbe
{
    /// <summary>Never throws for an unhealthy provider; the result says what failed.</summary>
    Task<ProviderHealth> ProbeAsync(ProviderCapabilities provider, CancellationToken cancellationToken = default);

    /// <summary>
    /// The current values of everything outside the recipe that <see cref="ProbeAsync"/> would read for
    /// <paramref name="check"/> (endpoint variables such as OLLAMA_HOST, PATH), as one text. A cached result is
    /// reused only while this text is unchanged, so pointing a variable at another server is probed anew.
    /// </summary>
    string EnvironmentFingerprint(ProviderHealthCheck check);
}

/// <summary>
/// Carries out a provider's <see cref="ProviderHealthCheck"/>: an HTTP GET with a short timeout, a PATH search,
/// or a Python import run in a child process that is killed if it overruns. Environment variables (endpoints, PATH)
/// are read through a delegate so tests can supply their own.
/// </summary>
public sealed class ProviderHealthProbe : IProviderHealthProbe
{
    public static readonly TimeSpan DefaultHttpTimeout = TimeSpan.FromSeconds(2);
    /// <summary>Longer than the HTTP timeout: starting Python and importing a package can take a couple of seconds on a cold disk.</summary>
    public static readonly TimeSpan DefaultProcessTimeout = TimeSpan.FromSeconds(8);

    // Probes go to local servers; a connect timeout as short as the request's keeps a dead host from holding the check.
    static readonly HttpClient SharedClient = Net.HttpClients.Create(connectTimeout: DefaultHttpTimeout);

    /// <summary>A health answer is small; a server that sends more is not the provider's API.</summary>
    const long MaxProbeBodyBytes = 4L * 1024 * 1024;

    // The module name is passed as an argument, never spliced into the code, so a definition cannot inject Python.
    const string PythonImportScript =
        "import importlib, sys; m = importlib.import_module(sys.argv[1]); sys.stdout.write(str(getattr(m, '__version__', '')))";

    readonly HttpClient http;
    readonly Func<string, string?> environment;
    readonly TimeSpan httpTimeout;
    readonly TimeSpan processTimeout;

    public ProviderHealthProbe(HttpClient? http = null, Func<string, string?>? environment = null, TimeSpan? httpTimeout = null, TimeSpan? processTimeout = null)
    {
        this.http = http ?? SharedClient;
        this.environment = environment ?? Environment.GetEnvironmentVariable;
        this.httpTimeout = httpTimeout ?? DefaultHttpTimeout;
        this.processTimeout = processTimeout ?? DefaultProcessTimeout;
    }

    public async Task<ProviderHealth> ProbeAsync(ProviderCapabilities provider, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.StartNew();
        var check = provider.HealthCheck;
        Outcome outcome;
        try
        {
            outcome = check.Method switch
            {
                ProbeMethod.Http => await ProbeHttpAsync(check, cancellationToken).ConfigureAwait(false),
                ProbeMethod.Executable => await ProbeExecutableAsync(check, cancellationToken).ConfigureAwait(false),
                ProbeMethod.PythonModule => await ProbePythonAsync(check, cancellationToken).ConfigureAwait(false),
                _ => new Outcome(false, ProbeMethod.None, null, "No health check is defined for this provider."),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            outcome = new Outcome(false, check.Method, null, $"The health check failed: {e.Message}");
        }

        return new ProviderHealth
        {
            Provider = provider.Name,
            Healthy = outcome.Healthy,
            ProbeMethod = outcome.Method,
            Endpoint = outcome.Endpoint,
            Message = outcome.Message,
            Latency = started.Elapsed,
            CheckedAt = DateTimeOffset.UtcNow,
            ServedModels = outcome.ServedModels ?? Array.Empty<string>(),
        };
    }

    public string EnvironmentFingerprint(ProviderHealthCheck check) =>
        string.Join("\n", VariablesRead(check).Select(name => name + "=" + environment(name)));

    /// <summary>
    /// Every environment variable a probe of <paramref name="check"/> may read: <see cref="ResolveEndpoint"/> reads all
    /// endpoint variables (an earlier one that becomes set takes over), the PATH search reads PATH and PATHEXT. Keep
    /// in step with the probes below; a test records what a probe reads and compares it with this list.
    /// </summary>
    static IEnumerable<string> VariablesRead(ProviderHealthCheck check) => check.Method switch
    {
        ProbeMethod.Http => check.EndpointVariables,
        ProbeMethod.Executable => check.EndpointVariables.Append("PATH").Append("PATHEXT"),
        ProbeMethod.PythonModule => new[] { "PATH", "PATHEXT" },
        _ => Array.Empty<string>(),
    };

    sealed record Outcome(bool Healthy, ProbeMethod Method, string? Endpoint, string Message, string[]? ServedModels = null);

    async Task<Outcome> ProbeHttpAsync(ProviderHealthCheck check, CancellationToken cancellationToken)
    {
        var (endpoint, problem) = ResolveEndpoint(check);
        if (endpoint is null)
        {
            return new Outcome(false, ProbeMethod.Http, null, problem ?? "No endpoint is configured.");
        }

        return await GetAsync(EndpointAddress.Combine(endpoint, check.Path), check.ListProperty, cancellationToken).ConfigureAwait(false);
    }

    async Task<Outcome> ProbeExecutableAsync(ProviderHealthCheck check, CancellationToken cancellationToken)
    {
        // A running server is the better sign, so a configured endpoint is tried first; the PATH search is the fallback.
        var (endpoint, problem) = ResolveEndpoint(check);
        string? endpointNote = problem;
        if (endpoint is not null)
        {
            var served = await GetAsync(EndpointAddress.Combine(endpoint, check.Path ?? "/health"), check.ListProperty, cancellationToken).ConfigureAwait(false);
            if (served.Healthy)
            {
                return served;
            }

            endpointNote = served.Message;
        }

        var path = environment("PATH");
        foreach (var name in check.Executables)
        {
            if (ExecutableLocator.Find(name, path, environment("PATHEXT")) is { } found)
            {
                var message = $"{name} found at {found}.";
                return new Outcome(true, ProbeMethod.Executable, found, endpointNote is null ? message : $"{message} ({endpointNote})");
            }
        }

        var missing = $"None of {string.Join(", ", check.Executables)} is on PATH.";
        return new Outcome(false, ProbeMethod.Executable, check.Executables.FirstOrDefault(), endpointNote is null ? missing : $"{missing} {endpointNote}");
    }

    async Task<Outcome> ProbePythonAsync(ProviderHealthCheck check, CancellationToken cancellationToken)
    {
        var module = check.PythonModule ?? "";
        var path = environment("PATH");
        Outcome? firstFailure = null;
        foreach (var name in check.Executables.Length > 0 ? check.Executables : new[] { "python3", "python" })
        {
            if (ExecutableLocator.Find(name, path, environment("PATHEXT")) is not { } python)
            {
                continue;
            }

            var (exitCode, output, error, timedOut) = await RunAsync(python, new[] { "-c", PythonImportScript, module }, cancellationToken).ConfigureAwait(false);
            if (timedOut)
            {
                firstFailure ??= new Outcome(false, ProbeMethod.PythonModule, python,
                    $"{python} did not finish importing {module} within {Seconds(processTimeout)} s and was stopped.");
                continue;
            }

            if (exitCode == 0)
            {
                var version = output.Trim();
                return new Outcome(true, ProbeMethod.PythonModule, python,
                    $"{python} imports {module}{(version.Length > 0 ? " " + version : "")}.");
            }

            // The last line of a traceback names the error ("ModuleNotFoundError: No module named 'transformers'").
            var last = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {exitCode}";
            firstFailure ??= new Outcome(false, ProbeMethod.PythonModule, python, $"{python} cannot import {module}: {last}");
        }

        return firstFailure ?? new Outcome(false, ProbeMethod.PythonModule, null,
            $"No Python interpreter ({string.Join(", ", check.Executables)}) is on PATH, so {module} cannot be checked.");
    }

    (Uri? Endpoint, string? Problem) ResolveEndpoint(ProviderHealthCheck check)
    {
        var defaultPort = check.DefaultPort ?? 80;
        foreach (var variable in check.EndpointVariables)
        {
            var value = environment(variable);
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }

            return EndpointAddress.TryParse(value, defaultPort, out var uri, out var error)
                ? (uri, null)
                : (null, $"{variable}='{value}' is not a valid endpoint: {error}.");
        }

        if (check.Endpoint is not null)
        {
            return EndpointAddress.TryParse(check.Endpoint, defaultPort, out var uri, out var error)
                ? (uri, null)
                : (null, $"The endpoint '{check.Endpoint}' is not valid: {error}.");
        }

        return (null, null);
    }

    async Task<Outcome> GetAsync(Uri url, string? listProperty, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(httpTimeout);
        var endpoint = url.ToString();
        try
        {
            // The endpoint is the one the user configured (plain http to it is their choice); a redirect from it is
            // held to the plain-http rule like any other request.
            using var request = new HttpRequestMessage(HttpMethod.Get, url).With(new Net.HttpPolicy
            {
                Purpose = $"probe {endpoint}",
                Target = endpoint,
                TrustedPlainHttpHost = url.IdnHost,
            });
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
            if (!response.IsSuccessStatusCode)
            {
                var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? " The server is running but wants credentials."
                    : response.StatusCode == HttpStatusCode.ServiceUnavailable ? " The server is running but not ready (still loading a model?)." : "";
                return new Outcome(false, ProbeMethod.Http, endpoint, $"{endpoint} answered {status}.{hint}");
            }

            if (listProperty is null)
            {
                return new Outcome(true, ProbeMethod.Http, endpoint, $"{endpoint} answered {status}.");
            }

            var bytes = await Net.BoundedBody.ReadAsync(response.Content, MaxProbeBodyBytes, timeout.Token).ConfigureAwait(false);
            var models = bytes is null ? null : ReadModelList(System.Text.Encoding.UTF8.GetString(bytes), listProperty);
            return models is null
                ? new Outcome(false, ProbeMethod.Http, endpoint, $"{endpoint} answered {status}, but not with a JSON '{listProperty}' list; is another service on that port?")
                : new Outcome(true, ProbeMethod.Http, endpoint, $"{endpoint} answered {status}; {models.Length} model(s) served.", models);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Outcome(false, ProbeMethod.Http, endpoint, $"{endpoint} did not answer within {Seconds(httpTimeout)} s.");
        }
        catch (ModelLibraryException e)
        {
            // A redirect the plain-http rule refuses, or a loop.
            return new Outcome(false, ProbeMethod.Http, endpoint, e.Message);
        }
        catch (HttpRequestException e)
        {
            var why = e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || e.HttpRequestError == HttpRequestError.ConnectionError && e.Message.Contains("refused", StringComparison.OrdinalIgnoreCase)
                ? "connection refused (is the server running?)"
                : e.Message;
            return new Outcome(false, ProbeMethod.Http, endpoint, $"{endpoint} could not be reached: {why}.");
        }
    }

    /// <summary>The names in the list property: strings, or objects' name/model/id. Null when the body is not that shape.</summary>
    static string[]? ReadModelList(string body, string listProperty)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind != JsonValueKind.Object
                || !document.RootElement.TryGetProperty(listProperty, out var list)
                || list.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            return list.EnumerateArray().Select(item => item.ValueKind switch
            {
                JsonValueKind.String => item.GetString(),
                JsonValueKind.Object => new[] { "name", "model", "id" }
                    .Select(key => item.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null)
                    .FirstOrDefault(v => v is not null),
                _ => null,
            }).Where(n => !string.IsNullOrEmpty(n)).Select(n => n!).ToArray();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    async Task<(int ExitCode, string Output, string Error, bool TimedOut)> RunAsync(string file, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            CreateNoWindow = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} could not be started.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(processTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the timeout and the kill.
            }

            cancellationToken.ThrowIfCancellationRequested();
            return (-1, "", "", true);
        }

        return (process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false), false);
    }

    static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
}
