using System.Collections.Concurrent;
using ModelLibrary.Catalog;
using ModelLibrary.Downloads;

namespace ModelLibrary.Sources.Oci;

/// <summary>A reference resolved against its registry: the model as the library lists it, its layout and the pinned manifest.</summary>
public sealed record OciResolvedModel(OciReference Reference, ModelInfo Model, OciModelLayoutResult Layout, FetchedManifest Manifest, OciRegistryClient Client)
{
    /// <summary>The engine's request for the main weights: the blob by digest, verified against it, logged in.</summary>
    public DownloadRequest PrimaryRequest(bool allowInsecureHttp = false) =>
        DownloadRequest.FromModel(Model, allowInsecureHttp) with { Authorizer = Client.BlobAuthorizer(Reference.Repository) };
}

/// <summary>
/// OCI registries as model sources: finds the client for a registry (its registered source's URI and credential,
/// else Docker's config.json, else anonymous; https, or plain http to loopback), resolves references to models,
/// brings a model's side files (template, parameters, licence) and lists registered registries' tags.
/// </summary>
public sealed class OciRegistries
{
    readonly Func<IReadOnlyList<ModelSourceInfo>> sources;
    readonly SourceCredentials credentials;
    readonly ConcurrentDictionary<string, OciRegistryClient> clients = new(StringComparer.OrdinalIgnoreCase);

    public OciRegistries(Func<IReadOnlyList<ModelSourceInfo>> sources, SourceCredentials credentials)
    {
        this.sources = sources;
        this.credentials = credentials;
    }

    /// <summary>Tuning for tests: retries of registry calls.</summary>
    public int RetryAttempts { get; init; } = 8;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The registered Oci source for a registry (host[:port]), if any.</summary>
    public ModelSourceInfo? SourceFor(string registry) => sources().FirstOrDefault(s =>
        s.Type == ModelCatalog.OciType && Uri.TryCreate(s.Uri, UriKind.Absolute, out var u) && string.Equals(u.Authority, registry, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The client for a registry. <paramref name="credential"/> (a cmdlet's <c>-Credential</c>) wins over the
    /// registered source's, which wins over Docker's config.json. Clients are kept, so tokens are reused.
    /// </summary>
    public OciRegistryClient ClientFor(string registry, RegistryCredential? credential = null)
    {
        var source = SourceFor(registry);
        var registered = source is not null && credentials.Get(source.Name) is { } entry
            ? new RegistryCredential(entry.Username, entry.Password, $"the model source '{source.Name}'")
            : null;
        var login = credential is not null ? new RegistryLogin(credential) : RegistryCredentials.Find(registry, registered);
        var baseUri = source is not null ? new Uri(source.Uri)
            : new Uri((OciReference.IsLoopbackHost(OciReference.HostOf(registry)) ? "http://" : "https://") + registry + "/");
        if (baseUri.Scheme == Uri.UriSchemeHttp && !OciReference.IsLoopbackHost(baseUri.Host) && source?.AllowInsecureHttp != true)
        {
            throw new SecurityException(ErrorIds.InsecureSource, $"The registry '{registry}' is registered with plain http to a host that is not loopback.", registry);
        }

        var key = $"{baseUri}|{login.Credential?.Username}|{login.Credential?.Password.GetHashCode()}";
        return clients.GetOrAdd(key, _ => new OciRegistryClient(baseUri, registry, login) { RetryAttempts = RetryAttempts, RetryDelay = RetryDelay });
    }

    /// <summary>
    /// Reads the manifest the reference names (an index leads to its model manifest), the layout and its config:
    /// a model that is not downloaded, with the main weights' blob as its download, the manifest digest as
    /// <see cref="ModelInfo.Revision"/>, and metadata from the config. No weight bytes are fetched.
    /// </summary>
    public async Task<OciResolvedModel> ResolveAsync(OciReference reference, CancellationToken cancellationToken)
    {
        var client = ClientFor(reference.Registry);
        var manifest = await client.GetModelManifestAsync(reference, cancellationToken).ConfigureAwait(false);
        var layout = OciModelLayout.Interpret(reference, manifest.Manifest);
        var config = await client.GetSmallBlobAsync(reference, layout.Config, cancellationToken).ConfigureAwait(false);
        var primary = layout.Primary;
        var format = CatalogJson.FormatFromFileName(primary.RelativePath) ?? (layout.Format == OciModelFormat.Ollama ? "gguf" : null);
        var model = new ModelInfo
        {
            Id = reference.ToString(),
            Name = reference.Repository.Split('/')[^1],
            Format = format,
            // The main weights: what the engine fetches and the validator compares (side files are small and checked by digest).
            Size = primary.Layer.Size,
            Checksum = primary.Layer.Digest,
            DownloadUrl = client.BlobUri(reference.Repository, primary.Layer.Digest).ToString(),
            FileName = primary.RelativePath,
            Revision = manifest.Digest,
            Source = SourceFor(reference.Registry)?.Name ?? reference.Registry,
            Status = ModelStatus.Available,
        };
        OciModelLayout.ReadConfig(layout.Format, config, model);
        model.Provider = model.Format == "safetensors" ? "transformers" : layout.Format == OciModelFormat.Ollama ? "ollama" : "llama-cpp";
        model.Format ??= format;
        model.AdditionalProperties["OciFormat"] = layout.Format.ToString();
        return new OciResolvedModel(reference, model, layout, manifest, client);
    }

    /// <summary>
    /// Writes the layers besides the main weights into <paramref name="modelDirectory"/>, each checked against its
    /// digest and moved into place whole. Layers larger than <see cref="OciRegistryClient.MaxSmallBlobBytes"/>
    /// (more weight shards, a projector) need the multi-file download engine and are refused for now.
    /// </summary>
    public static async Task WriteSideFilesAsync(OciResolvedModel resolved, string modelDirectory, CancellationToken cancellationToken)
    {
        var side = resolved.Layout.Files.Where(f => f != resolved.Layout.Primary).ToList();
        var large = side.FirstOrDefault(f => f.Layer.Size > OciRegistryClient.MaxSmallBlobBytes || f.IsTar);
        if (large is not null || resolved.Layout.Primary.IsTar)
        {
            var what = large ?? resolved.Layout.Primary;
            throw RegistryErrors.InvalidArtifact(resolved.Reference,
                $"the layer '{what.RelativePath}' ({what.Layer.MediaType}, {what.Layer.Size} bytes) is {(what.IsTar ? "a tar layer" : "a second large file")}, which this version does not pull yet");
        }

        var root = Path.GetFullPath(modelDirectory);
        foreach (var file in side)
        {
            var bytes = await resolved.Client.GetSmallBlobAsync(resolved.Reference, file.Layer, cancellationToken).ConfigureAwait(false);
            var target = Path.GetFullPath(Path.Combine(root, file.RelativePath));
            if (!Validation.PathContainment.IsInside(target, root))
            {
                throw SecurityException.PathOutsideRoot(file.RelativePath, root);
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            var temp = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
            await File.WriteAllBytesAsync(temp, bytes, cancellationToken).ConfigureAwait(false);
            File.Move(temp, target, overwrite: true);
        }
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

    public async Task<CatalogReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await registries.ListAsync(info, MaxListed, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelLibraryException e) when (e.ErrorId != ErrorIds.ModelSourceUnavailable)
        {
            throw new ModelLibraryException(ErrorIds.ModelSourceUnavailable, ErrorKind.ResourceUnavailable,
                $"Model source '{Name}' is unavailable: {e.Message}",
                new Dictionary<string, object?> { ["source"] = Name, ["uri"] = info.Uri, ["cause"] = e.ErrorId },
                e.ErrorInfo.ResolutionSteps, Name, e);
        }
    }
}
