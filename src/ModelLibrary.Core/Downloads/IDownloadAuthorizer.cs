namespace ModelLibrary.Downloads;

/// <summary>
/// Logs the engine's requests in to a source that needs it (a registry's pull token). Called before every HEAD
/// and GET of the download; the engine's HTTP client drops the Authorization header when it follows a redirect
/// to another host, so storage behind a registry (S3, Azure Blob) never sees the credential.
/// </summary>
public interface IDownloadAuthorizer
{
    ValueTask AuthorizeAsync(HttpRequestMessage request, CancellationToken cancellationToken);
}
