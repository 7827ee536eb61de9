using ModelLibrary.Catalog;
using ModelLibrary.Sources.Oci;

namespace ModelLibrary.Library;

/// <summary>A registry, repository or tag the library knows of, and why (for a completion's tooltip).</summary>
public sealed record OciKnownReference(string Registry, string? Repository, string? Tag, string Note)
{
    /// <summary><c>&lt;registry&gt;</c>, <c>&lt;registry&gt;/&lt;repository&gt;</c> or <c>&lt;registry&gt;/&lt;repository&gt;:&lt;tag&gt;</c>.</summary>
    public string Text => Repository is null ? Registry : Tag is null ? $"{Registry}/{Repository}" : $"{Registry}/{Repository}:{Tag}";
}

/// <summary>
/// The OCI references this library knows without asking any registry (what tab completion offers, so a Tab press
/// never waits on the network): the registries of registered Oci sources, and the repositories and tags of models
/// pulled from a registry (their rows' <see cref="OciRegistries.RepositoryKey"/>) or published to one
/// (<see cref="OciPublisher.PublishedKey"/>).
/// </summary>
public static class OciKnownReferences
{
    public static IReadOnlyList<OciKnownReference> Read(ModelLibraryService library)
    {
        var known = new List<OciKnownReference>();
        foreach (var source in library.Catalog.Records(ModelCatalog.OciType))
        {
            if (Uri.TryCreate(source.Uri, UriKind.Absolute, out var uri))
            {
                known.Add(new OciKnownReference(uri.Authority, null, null, $"the registry of the Oci source '{source.Name}' ({source.Uri})"));
            }
        }

        foreach (var row in library.Models.List())
        {
            if (row.AdditionalProperties.ContainsKey(OciRegistries.RepositoryKey))
            {
                Add(known, row.Id, $"{row.Id} [pulled, {row.Status}]");
            }

            foreach (var published in Published(row))
            {
                Add(known, published, $"{published} [published from {row.Id}]");
            }
        }

        return known;
    }

    /// <summary>The references a model was published to (its row's <see cref="OciPublisher.PublishedKey"/>).</summary>
    public static IReadOnlyList<string> Published(ModelInfo model) =>
        model.AdditionalProperties.TryGetValue(OciPublisher.PublishedKey, out var value) && value is System.Collections.IEnumerable items and not string
            ? items.OfType<string>().ToList()
            : Array.Empty<string>();

    /// <summary>A reference as its registry, its repository and its tag (a digest reference is known by its repository only).</summary>
    static void Add(List<OciKnownReference> known, string text, string note)
    {
        if (!OciReference.TryParse(text, out var reference))
        {
            return;
        }

        known.Add(new OciKnownReference(reference.Registry, null, null, $"the registry of {text}"));
        known.Add(new OciKnownReference(reference.Registry, reference.Repository, null, $"{reference.Registry}/{reference.Repository} (of {text})"));
        if (reference.Tag is not null)
        {
            known.Add(new OciKnownReference(reference.Registry, reference.Repository, reference.Tag, note));
        }
    }
}
