using ModelLibrary.Configuration;
using ModelLibrary.Downloads;
using ModelLibrary.Library;

namespace ModelLibrary.PowerShell.Infrastructure;

/// <summary>
/// The module's state in this process: the effective configuration (read from the environment on first use, not at
/// import, so importing stays fast) and the library service built from it.
/// </summary>
public static class ModelLibrarySession
{
    static readonly object Gate = new();
    static LibraryConfiguration? configuration;
    static ModelLibraryService? service;
    static ConcurrencyGate? downloadGate;

    /// <summary>
    /// One HTTP client for the whole process (<see cref="Net.HttpClients.Shared"/>): connection pooling across
    /// cmdlets, the system proxy, one User-Agent, and every redirect hop checked against the plain-http rule.
    /// </summary>
    public static HttpClient Http => Net.HttpClients.Shared;

    /// <summary>The effective configuration; throws InvalidConfiguration naming the variable when one is bad.</summary>
    public static LibraryConfiguration Configuration
    {
        get
        {
            lock (Gate)
            {
                return configuration ??= LibraryConfiguration.FromEnvironment();
            }
        }
    }

    public static ModelLibraryService Service
    {
        get
        {
            lock (Gate)
            {
                var current = Configuration;
                downloadGate ??= new ConcurrencyGate(current.MaxConcurrentDownloads);
                if (service is null || (!ReferenceEquals(service.Configuration, current) && !service.TryReconfigure(current)))
                {
                    // A new root is a new library; downloads running in the old one go on to their end.
                    service = new ModelLibraryService(current, Http, downloadGate);
                }

                downloadGate.Limit = current.MaxConcurrentDownloads;
                return service;
            }
        }
    }

    /// <summary>Applies a session change (Set-ModelLibraryConfiguration).</summary>
    public static LibraryConfiguration Update(Func<LibraryConfiguration, LibraryConfiguration> change)
    {
        lock (Gate)
        {
            configuration = change(Configuration);
            return configuration;
        }
    }

    /// <summary>Forgets session changes and re-reads the environment.</summary>
    public static LibraryConfiguration Reset()
    {
        lock (Gate)
        {
            configuration = null;
            return Configuration;
        }
    }
}
