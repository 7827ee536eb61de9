using ModelLibrary.Net;

namespace ModelLibrary.Catalog;

/// <summary>A catalog a user registered: a local JSON file or an HTTP(S) URL serving the contract's catalog JSON.</summary>
public sealed class RegisteredCatalogSource : IModelSource
{
    /// <summary>A catalog larger than this is refused rather than read into memory.</summary>
    const long MaxCatalogBytes = 32L * 1024 * 1024;

    /// <summary>
    /// A server that has not begun to answer by then is taken as not answering (the listing goes on without it);
    /// one that answers has <see cref="BodyTimeout"/> to send the catalog.
    /// </summary>
    static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);
    static readonly TimeSpan BodyTimeout = TimeSpan.FromSeconds(30);

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
        var path = ModelCatalog.FilePath(Info.FetchUri);
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
        var uri = new Uri(Info.FetchUri);
        var shown = SafeUrl.Masked(uri);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(AnswerTimeout);
        var answered = false;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri).With(HttpPolicy.ForSource(Name, Info.AllowInsecureHttp));
            request.Headers.Accept.ParseAdd("application/json");
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            answered = true;
            timeout.CancelAfter(BodyTimeout);
            if (!response.IsSuccessStatusCode)
            {
                throw Unavailable($"{shown} answered HTTP {(int)response.StatusCode} ({response.ReasonPhrase})");
            }

            if (BoundedBody.IsHtml(response.Content))
            {
                throw Unavailable($"{shown} answered with a web page (text/html), not a catalog JSON; the URL may need a login or point to a page about the catalog");
            }

            // Counted on the bytes read: a chunked body has no Content-Length, and an endless one would fill memory.
            var body = await BoundedBody.ReadAsync(response.Content, MaxCatalogBytes, timeout.Token).ConfigureAwait(false)
                ?? throw Unavailable($"{shown} serves more than {MaxCatalogBytes / (1024 * 1024)} MB; reading stopped there");
            return System.Text.Encoding.UTF8.GetString(body);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unavailable(answered
                ? $"{shown} did not send its catalog within {BodyTimeout.TotalSeconds:0} seconds"
                : $"{shown} did not answer within {AnswerTimeout.TotalSeconds:0} seconds", e);
        }
        catch (HttpRequestException e)
        {
            throw Unavailable($"{shown} cannot be reached ({SafeUrl.MaskText(e.Message)})", e);
        }
        catch (IOException e)
        {
            throw Unavailable($"the connection to {shown} broke ({SafeUrl.MaskText(e.Message)})", e);
        }
    }

    ModelLibraryException Unavailable(string why, Exception? inner = null) => Errors.ModelSourceUnavailable(Name, SafeUrl.MaskText(Info.Uri), why, inner);
}
