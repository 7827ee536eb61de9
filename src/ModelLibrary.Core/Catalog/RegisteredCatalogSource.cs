using System.Net;

namespace ModelLibrary.Catalog;

/// <summary>A catalog a user registered: a local JSON file or an HTTP(S) URL serving the contract's catalog JSON.</summary>
public sealed class RegisteredCatalogSource : IModelSource
{
    /// <summary>A catalog larger than this is refused rather than read into memory.</summary>
    const long MaxCatalogBytes = 32L * 1024 * 1024;

    static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(15);

    readonly HttpClient http;

    public RegisteredCatalogSource(ModelSourceInfo info, HttpClient http)
    {
        Info = info;
        this.http = http;
    }

    public ModelSourceInfo Info { get; }

    public string Name => Info.Name;

    public async Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        var json = Info.Type == ModelCatalog.FileType ? await ReadFileAsync(cancellationToken).ConfigureAwait(false) : await FetchAsync(cancellationToken).ConfigureAwait(false);
        return CatalogJson.Parse(json, Name);
    }

    async Task<string> ReadFileAsync(CancellationToken cancellationToken)
    {
        var path = ModelCatalog.FilePath(Info.Uri);
        try
        {
            if (new FileInfo(path).Length > MaxCatalogBytes)
            {
                throw Unavailable($"the file '{path}' is larger than {MaxCatalogBytes / (1024 * 1024)} MB");
            }

            return await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Unavailable($"the file '{path}' cannot be read ({e.Message})", e);
        }
    }

    async Task<string> FetchAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(FetchTimeout);
        try
        {
            using var response = await http.GetAsync(Info.Uri, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw Unavailable($"{Info.Uri} answered HTTP {(int)response.StatusCode} ({response.ReasonPhrase})");
            }

            if (response.Content.Headers.ContentLength > MaxCatalogBytes)
            {
                throw Unavailable($"{Info.Uri} serves more than {MaxCatalogBytes / (1024 * 1024)} MB");
            }

            return await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unavailable($"{Info.Uri} did not answer within {FetchTimeout.TotalSeconds:0} seconds", e);
        }
        catch (HttpRequestException e)
        {
            throw Unavailable($"{Info.Uri} cannot be reached ({e.Message})", e);
        }
    }

    ModelLibraryException Unavailable(string why, Exception? inner = null) => Errors.ModelSourceUnavailable(Name, Info.Uri, why, inner);

    internal static bool IsLoopback(Uri uri) =>
        uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip));
}
