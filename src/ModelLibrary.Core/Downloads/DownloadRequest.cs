using System.Text.Json.Serialization;

namespace ModelLibrary.Downloads;

/// <summary>
/// What to download and where it goes. Built from a <see cref="ModelInfo"/>; also saved in the resume state file,
/// so a download can be resumed by task id after the process that started it is gone.
/// </summary>
public sealed record DownloadRequest
{
    public required string ModelId { get; init; }
    public required Uri Url { get; init; }
    public required string Provider { get; init; }
    /// <summary>Name of the file inside <c>&lt;provider folder&gt;/&lt;model id&gt;/</c>; must stay inside it.</summary>
    public required string FileName { get; init; }
    /// <summary>The catalog's size, used for the space check before any request.</summary>
    public long? DeclaredSize { get; init; }
    /// <summary><c>sha256:&lt;hex&gt;</c>, or null when no source knows it (then the computed one is recorded).</summary>
    public string? Checksum { get; init; }
    public string? Format { get; init; }
    public string? Name { get; init; }
    /// <summary>Plain http to a host that is not loopback is refused unless this is set (a source registered with -AllowInsecureHttp).</summary>
    public bool AllowInsecureHttp { get; init; }
    /// <summary>Logs requests in (a registry's token); not saved: whoever resumes the download gives it again.</summary>
    [JsonIgnore]
    public IDownloadAuthorizer? Authorizer { get; init; }

    public static DownloadRequest FromModel(ModelInfo model, bool allowInsecureHttp = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (string.IsNullOrWhiteSpace(model.DownloadUrl) || !Uri.TryCreate(model.DownloadUrl, UriKind.Absolute, out var url))
        {
            throw new ModelLibraryException(ErrorIds.InvalidModelSource, ErrorKind.InvalidArgument,
                $"Model '{model.Id}' has no valid download URL ('{model.DownloadUrl}').",
                new Dictionary<string, object?> { ["model_id"] = model.Id, ["download_url"] = model.DownloadUrl },
                new[] { "Check the catalog entry's download_url.", "Refresh the model source with Get-ModelSource." },
                model.Id);
        }

        return new DownloadRequest
        {
            ModelId = model.Id,
            Url = url,
            Provider = model.Provider,
            FileName = !string.IsNullOrWhiteSpace(model.FileName) ? model.FileName : FileNameFromUrl(url, model),
            DeclaredSize = model.Size,
            Checksum = string.IsNullOrWhiteSpace(model.Checksum) ? null : model.Checksum,
            Format = model.Format,
            Name = model.Name,
            AllowInsecureHttp = allowInsecureHttp,
        };
    }

    /// <summary>The model as validators see it (the request is all that is known after a restart).</summary>
    public ModelInfo ToModelInfo() => new()
    {
        Id = ModelId,
        Name = Name ?? ModelId,
        Provider = Provider,
        Size = DeclaredSize,
        DownloadUrl = Url.ToString(),
        Checksum = Checksum,
        Format = Format,
        FileName = FileName,
        Status = ModelStatus.Downloading,
    };

    static string FileNameFromUrl(Uri url, ModelInfo model)
    {
        var last = Uri.UnescapeDataString(url.Segments.LastOrDefault() ?? "").Trim('/');
        return last.Length > 0 ? last : model.Id + (string.IsNullOrEmpty(model.Format) ? "" : "." + model.Format);
    }
}
