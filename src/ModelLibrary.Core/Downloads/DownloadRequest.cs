namespace ModelLibrary.Downloads;

/// <summary>
/// What to download and where it goes. Built from a <see cref="ModelInfo"/>; also saved in the resume state file,
/// so a download can be resumed by task id after the process that started it is gone.
/// </summary>
public sealed record DownloadRequest
{
    public required string ModelId { get; init; }
    /// <summary>Credentials in it are used (basic auth) but never saved: the resume state keeps it masked.</summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(MaskedUriConverter))]
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
    /// <summary>
    /// Other URLs serving the same file (same SHA-256): ranges come from all of them at once, and one that fails or
    /// serves wrong bytes is dropped. Only used when <see cref="Checksum"/> is known (the only proof they agree).
    /// </summary>
    [System.Text.Json.Serialization.JsonConverter(typeof(MaskedUriListConverter))]
    public IReadOnlyList<Uri>? Mirrors { get; init; }
    /// <summary>Most bytes per second this download may take over all its connections; null or 0: the configured limit.</summary>
    public long? MaxBytesPerSecond { get; init; }

    /// <summary>The commit or manifest digest the files come from (recorded on the model when it lands).</summary>
    public string? Revision { get; init; }

    /// <summary>
    /// A model of several files (a transformers repository, a split GGUF set, a model with its mmproj): every file,
    /// fetched one after the other into a staging folder and verified each, and the folder moved into place whole.
    /// Null for a model of one file (<see cref="Url"/>, <see cref="FileName"/>, <see cref="Checksum"/>). When set,
    /// <see cref="FileName"/> names the entry file inside the folder (what <see cref="ModelInfo.LocalPath"/> points at;
    /// empty: the folder itself) and <see cref="DeclaredSize"/> is the total.
    /// </summary>
    public IReadOnlyList<DownloadFile>? Files { get; init; }

    /// <summary>True when the model is a folder of several files.</summary>
    public bool IsFolder => Files is { Count: > 0 };

    /// <summary>
    /// The request for what a source resolved: one file as a classic request (the engine's single-file path), several
    /// as a folder request. Every relative path is checked to stay inside the model's folder.
    /// </summary>
    public static DownloadRequest FromResolved(ResolvedModel resolved)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        var model = resolved.Model;
        if (resolved.Files.Count == 0)
        {
            return FromModel(model, resolved.AllowInsecureHttp);
        }

        foreach (var file in resolved.Files)
        {
            ModelReference.CheckRelativePath(file.RelativePath, model.Id);
        }

        if (resolved.Files.Count == 1 && !resolved.Files[0].RelativePath.Contains('/') && resolved.Files[0].Unpack is null)
        {
            var only = resolved.Files[0];
            return new DownloadRequest
            {
                ModelId = model.Id,
                Url = only.Url,
                Provider = model.Provider,
                FileName = only.RelativePath,
                DeclaredSize = only.Size ?? model.Size,
                Checksum = only.Checksum,
                Format = model.Format,
                Name = model.Name,
                AllowInsecureHttp = resolved.AllowInsecureHttp,
                Revision = model.Revision,
            };
        }

        var sizes = resolved.Files.Select(f => f.Size).ToList();
        return new DownloadRequest
        {
            ModelId = model.Id,
            Url = resolved.Files[0].Url,
            Provider = model.Provider,
            FileName = model.FileName ?? "",
            DeclaredSize = sizes.All(s => s is not null) ? sizes.Sum() : model.Size,
            Format = model.Format,
            Name = model.Name,
            AllowInsecureHttp = resolved.AllowInsecureHttp,
            Revision = model.Revision,
            Files = resolved.Files.Select(f => new DownloadFile(f.RelativePath, f.Url, f.Size, f.Checksum, f.GitBlobSha1, f.Unpack)).ToList(),
        };
    }

    public static DownloadRequest FromModel(ModelInfo model, bool allowInsecureHttp = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (string.IsNullOrWhiteSpace(model.FetchUrl) || !Uri.TryCreate(model.FetchUrl, UriKind.Absolute, out var url))
        {
            throw Errors.NoDownloadUrl(model);
        }

        return new DownloadRequest
        {
            ModelId = model.Id,
            Url = url,
            Provider = model.Provider,
            FileName = !string.IsNullOrWhiteSpace(model.FileName) ? model.FileName
                : ModelFileNames.FromUrl(url.ToString(), model.Id + (string.IsNullOrEmpty(model.Format) ? "" : "." + model.Format)),
            DeclaredSize = model.Size,
            Checksum = string.IsNullOrWhiteSpace(model.Checksum) ? null : model.Checksum,
            Format = model.Format,
            Name = model.Name,
            AllowInsecureHttp = allowInsecureHttp,
            Mirrors = MirrorsOf(model),
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
        FileName = string.IsNullOrEmpty(FileName) ? null : FileName,
        Revision = Revision,
        Status = ModelStatus.Downloading,
    };

    /// <summary>The catalog entry's optional <c>mirrors</c> (absolute URLs; others are ignored).</summary>
    static IReadOnlyList<Uri>? MirrorsOf(ModelInfo model)
    {
        var mirrors = model.Mirrors?
            .Select(m => Uri.TryCreate(m, UriKind.Absolute, out var u) && (u.Scheme == Uri.UriSchemeHttps || u.Scheme == Uri.UriSchemeHttp) ? u : null)
            .OfType<Uri>().ToList();
        return mirrors is { Count: > 0 } ? mirrors : null;
    }
}

/// <summary>One file of a folder model: where it goes inside the folder, where it comes from, and what it must hash to.</summary>
/// <param name="Checksum"><c>sha256:&lt;hex&gt;</c>, verified as the bytes arrive.</param>
/// <param name="GitBlobSha1">For a small file kept in git: its blob SHA-1 (hex), verified when no SHA-256 is known.</param>
/// <param name="Unpack">An archive (<c>tar</c>, <c>tar+gzip</c>) unpacked at the folder's root once verified, instead of placed.</param>
public sealed record DownloadFile(string RelativePath, Uri Url, long? Size, string? Checksum, string? GitBlobSha1, string? Unpack = null);

/// <summary>Writes a URL masked (<see cref="Net.SafeUrl"/>), so the resume state file never holds a password.</summary>
internal sealed class MaskedUriConverter : System.Text.Json.Serialization.JsonConverter<Uri>
{
    public override Uri Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        new(reader.GetString() ?? throw new System.Text.Json.JsonException("A URL is null."), UriKind.Absolute);

    public override void Write(System.Text.Json.Utf8JsonWriter writer, Uri value, System.Text.Json.JsonSerializerOptions options) =>
        writer.WriteStringValue(Net.SafeUrl.Masked(value));
}

/// <summary>Writes each URL of a list masked, as <see cref="MaskedUriConverter"/> does for one.</summary>
internal sealed class MaskedUriListConverter : System.Text.Json.Serialization.JsonConverter<IReadOnlyList<Uri>>
{
    public override IReadOnlyList<Uri> Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) =>
        (System.Text.Json.JsonSerializer.Deserialize<List<string>>(ref reader, options) ?? new List<string>()).Select(s => new Uri(s, UriKind.Absolute)).ToList();

    public override void Write(System.Text.Json.Utf8JsonWriter writer, IReadOnlyList<Uri> value, System.Text.Json.JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var url in value)
        {
            writer.WriteStringValue(Net.SafeUrl.Masked(url));
        }

        writer.WriteEndArray();
    }
}
