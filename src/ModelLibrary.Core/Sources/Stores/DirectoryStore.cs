namespace ModelLibrary.Sources.Stores;

/// <summary>Any folder of model files, read in place: each GGUF (or split set) and each folder of safetensors is one model, id <c>&lt;source&gt;/&lt;relative path&gt;</c>.</summary>
public sealed class DirectoryStore : FolderStore
{
    public DirectoryStore(string name, string root) : base(name, root) { }

    public override string Tool => $"the folder '{Root}'";

    protected override string? IdFor(string relativePath) => $"{Name}/{relativePath}";
}
