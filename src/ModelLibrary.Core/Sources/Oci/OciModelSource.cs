using System.Collections.Concurrent;
using System.Net.Http.Headers;
using ModelLibrary.Catalog;

namespace ModelLibrary.Sources.Oci;

/// <summary>
/// OCI registries as a model source: finds the client for a registry (its registered Oci source's URI and
/// credential, else Docker's config.json, else anonymous; https, or plain http to loopback), resolves references to
/// a model and its layers (pinned to one manifest digest), logs the download engine's blob requests in, and lists
/// registered registries' tags.
/// </summary>
public sealed class OciRegistries : IModelSource
{
    readonly ModelCatalog catalog;
    readonly ConcurrentDictionary<string, OciRegistryClient> clients = new(StringComparer.OrdinalIgnoreCase);

    public OciRegistries(ModelCatalog catalog) => this.catalog = catalog;

    /// <summary>Marks a model that comes from a registry (its value: the repository), so a later download resolves it anew.</summary>
    public const string RepositoryKey = "oci_repository";

    public string Name => "oci";

    /// <summary>Registries list nothing by themselves; a registered Oci source lists its tags (<see cref="ListAsync"/>).</summary>
    public Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new CatalogReadResult(Array.Empty<ModelInfo>(), Array.Empty<string>()));

    public bool Handles(ModelReference reference) => reference.Kind == ModelReferenceKind.Oci;

    public async Task<IReadOnlyList<ModelInfo>> DescribeAsync(ModelReference reference, CancellationToken cancellationToken) =>
        new[] { (await ResolveAsync(reference, cancellationToken).ConfigureAwait(false)).Model };

    public async Task<ResolvedModel> ResolveAsync(ModelReference reference, CancellationToken cancellationToken)
    {
        var resolved = await ResolveAsync(OciReference.From(reference), cancellationToken).ConfigureAwait(false);
        var source = SourceFor(resolved.Reference.Registry);
        return new ResolvedModel(resolved.Model, resolved.Files) { AllowInsecureHttp = source?.AllowInsecureHttp ?? false };
    }

    /// <summary>The registered Oci source for a registry (host[:port]), if any.</summary>
    public Registry.SourceRecord? SourceFor(string registry) => catalog.Records(ModelCatalog.OciType).FirstOrDefault(s =>
        Uri.TryCreate(s.Uri, UriKind.Absolute, out var u) && string.Equals(u.Authority, registry, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The client for a registry. <paramref name="credential"/> (a cmdlet's <c>-Credential</c>) wins over the
    /// registered source's, which wins over Docker's config.json. Clients are kept, so tokens are reused.
    /// </summary>
    public OciRegistryClient ClientFor(string registry, RegistryCredential? credential = null)
    {
        var source = SourceFor(registry);
        var registered = source?.Credential is { } c
            ? new RegistryCredential(c.UserName ?? "", c.Secret, $"the model source '{source.Name}'")
            : null;
        var login = credential is not null ? new RegistryLogin(credential) : RegistryCredentials.Find(registry, registered);
        var baseUri = source is not null ? new Uri(source.Uri)
            : new Uri((OciReference.IsLoopbackHost(OciReference.HostOf(registry)) ? "http://" : "https://") + registry + "/");
        if (baseUri.Scheme == Uri.UriSchemeHttp && !OciReference.IsLoopbackHost(baseUri.Host) && source?.AllowInsecureHttp != true)
        {
            throw Errors.InsecureSource($"The registry '{registry}' is registered with plain http to a host that is not loopback.", registry,
                new Dictionary<string, object?> { ["registry"] = registry, ["uri"] = baseUri.ToString() },
                new[] { "Register the registry with an https:// URI, or with -AllowInsecureHttp if you trust the network path." });
        }

        var key = $"{baseUri}|{login.Credential?.Username}|{login.Credential?.Password}";
        return clients.GetOrAdd(key, _ => new OciRegistryClient(baseUri, registry, login) { AllowInsecureHttp = source?.AllowInsecureHttp ?? false });
    }

    /// <summary>
    /// The download engine's Authorization for a URL: for a blob of a registry (<c>/v2/&lt;repository&gt;/blobs/sha256:...</c>
    /// on a registry's own origin), that registry's pull login; null for anything else.
    /// </summary>
    public async ValueTask<AuthenticationHeaderValue?> AuthorizationForAsync(Uri url, CancellationToken cancellationToken) =>
        BlobOf(url) is var (client, repository) ? await client.BlobAuthorizationAsync(repository, cancellationToken).ConfigureAwait(false) : null;

    /// <summary>
    /// The download engine's answer to a registry refusing one of its blob requests (<see cref="Downloads.DownloadOptions.Reauthorize"/>):
    /// a 401 (a token that expired or was revoked mid-download) gets a fresh login from the realm, once; a refusal after
    /// that, or a 403, is AuthenticationRequired naming the registry. Null for anything that is not a registry's own answer
    /// (storage a blob was redirected to says what it says).
    /// </summary>
    public async ValueTask<AuthenticationHeaderValue?> ReauthorizeAsync(Uri url, HttpResponseMessage response, bool final, CancellationToken cancellationToken)
    {
        var answered = response.RequestMessage?.RequestUri ?? url;
        if (BlobOf(url) is not var (client, repository)
            || !string.Equals(answered.GetLeftPart(UriPartial.Authority), url.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return await client.BlobReauthorizationAsync(repository, response, final, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The registry client and repository of a blob URL (<c>/v2/&lt;repository&gt;/blobs/sha256:...</c> on a registry's own origin), or null.</summary>
    (OciRegistryClient Client, string Repository)? BlobOf(Uri url)
    {
        var path = url.AbsolutePath;
        var blobs = path.IndexOf("/blobs/sha256:", StringComparison.Ordinal);
        if (!path.StartsWith("/v2/", StringComparison.Ordinal) || blobs <= 4)
        {
            return null;
        }

        var client = ClientFor(url.Authority);
        if (!string.Equals(client.BaseUri.GetLeftPart(UriPartial.Authority), url.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            return null; // same host and port, another scheme: not the registry this login is for
        }

        return (client, path[4..blobs]);
    }

    /// <summary>
    /// Reads the manifest the reference names (an index leads to its model manifest), the layout and its config:
    /// a model that is not downloaded, its layers as files (the main weights first, then template, parameters,
    /// licence, projector, more shards), the manifest digest as <see cref="ModelInfo.Revision"/>, and metadata from
    /// the config. No weight bytes are fetched.
    /// </summary>
    public async Task<(OciReference Reference, ModelInfo Model, IReadOnlyList<RemoteModelFile> Files, OciModelLayoutResult Layout)> ResolveAsync(OciReference reference, CancellationToken cancellationToken)
    {
        var client = ClientFor(reference.Registry);
        var manifest = await client.GetModelManifestAsync(reference, cancellationToken).ConfigureAwait(false);
        var layout = OciModelLayout.Interpret(reference, manifest.Manifest);
        var config = await client.GetSmallBlobAsync(reference, layout.Config, cancellationToken).ConfigureAwait(false);
        var primary = layout.Primary;
        var format = ModelFileNames.FormatOf(primary.RelativePath) ?? (layout.Format == OciModelFormat.Ollama ? "gguf" : null);
        // An archive's digest is the archive's, not the file's: the model is the folder it unpacks into, whose entry
        // is the file the archive's filepath annotation names (when it names a model file), else the folder itself.
        var entry = !primary.IsArchive ? primary.RelativePath
            : layout.Files.Count(f => f.Role == OciFileRole.Weights) == 1 && format is not null && primary.Layer.Annotation(OciMediaTypes.FilePathAnnotation) is not null ? primary.RelativePath
            : null;
        var model = new ModelInfo
        {
            Id = reference.ToString(),
            Name = reference.Repository.Split('/')[^1],
            Format = format,
            // The main weights: what the validator compares with the file (each layer is verified by its digest).
            Size = primary.IsArchive ? null : primary.Layer.Size,
            Checksum = primary.IsArchive ? null : primary.Layer.Digest,
            DownloadUrl = client.BlobUri(reference.Repository, primary.Layer.Digest).ToString(),
            FileName = entry,
            Revision = manifest.Digest,
            Source = SourceFor(reference.Registry)?.Name ?? reference.Registry,
            Status = ModelStatus.Available,
        };
        OciModelLayout.ReadConfig(layout.Format, config, model);
        model.Provider = model.Format == "safetensors" ? "transformers" : layout.Format == OciModelFormat.Ollama ? "ollama" : "llama-cpp";
        model.Format ??= format;
        model.AdditionalProperties["oci_format"] = layout.Format.ToString();
        model.AdditionalProperties[RepositoryKey] = reference.Repository;
        var files = layout.Files.Select(f => new RemoteModelFile
        {
            RelativePath = f.RelativePath,
            Url = client.BlobUri(reference.Repository, f.Layer.Digest),
            Size = f.Layer.Size,
            Checksum = f.Layer.Digest,
            Unpack = f.Unpack,
        }).ToList();
        return (reference, model, files, layout);
    }

    /// <summary>
    /// A registered registry's models: every tag of every repository (<c>/v2/_catalog</c>, then <c>tags/list</c>),
    /// as Available models named by reference; none, with a warning, when the registry does not allow listing.
    /// </summary>
    public async Task<CatalogReadResult> ListAsync(ModelSourceInfo source, int max, CancellationToken cancellationToken)
    {
        var registry = new Uri(source.Uri).Authority;
        var client = ClientFor(registry);
        var warnings = new List<string>();
        var repositories = await client.ListRepositoriesAsync(max, cancellationToken).ConfigureAwait(false);
        if (repositories is null)
        {
            warnings.Add($"Source '{source.Name}': the registry '{registry}' does not allow listing its repositories; name models by reference ({registry}/<repository>:<tag>).");
            return new CatalogReadResult(Array.Empty<ModelInfo>(), warnings);
        }

        var models = new List<ModelInfo>();
        foreach (var repository in repositories)
        {
            if (models.Count >= max)
            {
                warnings.Add($"Source '{source.Name}': only the first {max} tags are listed.");
                break;
            }

            IReadOnlyList<string> tags;
            try
            {
                tags = await client.ListTagsAsync(repository, max - models.Count, cancellationToken).ConfigureAwait(false);
            }
            catch (ModelLibraryException e)
            {
                warnings.Add($"Source '{source.Name}': the tags of '{repository}' cannot be listed ({e.Message})");
                continue;
            }

            models.AddRange(tags.Select(tag => new ModelInfo
            {
                Id = $"{registry}/{repository}:{tag}",
                Name = repository.Split('/')[^1],
                Provider = "llama-cpp",
                Source = source.Name,
                Status = ModelStatus.Available,
                Description = $"{repository}:{tag} in the registry {registry}",
                AdditionalProperties = new Dictionary<string, object?> { [RepositoryKey] = repository },
            }));
        }

        return new CatalogReadResult(models, warnings);
    }
}

/// <summary>A registered Oci source as a catalog: its repositories' tags.</summary>
internal sealed class OciCatalogSource : IModelSource
{
    const int MaxListed = 2000;

    readonly ModelSourceInfo info;
    readonly OciRegistries registries;

    public OciCatalogSource(ModelSourceInfo info, OciRegistries registries)
    {
        this.info = info;
        this.registries = registries;
    }

    public string Name => info.Name;

    /// <summary>Never a full listing for one id: a reference to this registry resolves through <see cref="OciRegistries"/>.</summary>
    public Task<ModelInfo?> FindAsync(string id, CancellationToken cancellationToken) => Task.FromResult<ModelInfo?>(null);

    public async Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await registries.ListAsync(info, MaxListed, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelLibraryException e) when (e.ErrorId != ErrorIds.ModelSourceUnavailable)
        {
            throw Errors.ModelSourceUnavailable(Name, info.Uri, e.Message, e, e.ErrorInfo.ResolutionSteps);
        }
    }
}
