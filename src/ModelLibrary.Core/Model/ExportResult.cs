namespace ModelLibrary;

/// <summary>What Export-LibraryModel made: the model, the tool, the name that tool knows it by, where, and whether its bytes are shared (hard link) or copied.</summary>
public sealed class ExportResult
{
    public string ModelId { get; init; } = "";
    /// <summary><c>Ollama</c> or <c>HuggingFaceCache</c>.</summary>
    public string To { get; init; } = "";
    /// <summary>The name the tool knows it by: as <c>ollama list</c> shows it, or the Hub repository id.</summary>
    public string Name { get; init; } = "";
    /// <summary>The Ollama manifest, or the cache's <c>models--&lt;owner&gt;--&lt;repo&gt;</c> folder.</summary>
    public string Path { get; init; } = "";
    /// <summary>True when every file is a hard link of the library's (no second copy on disk); false when any was copied.</summary>
    public bool Linked { get; init; }
    /// <summary>Hugging Face cache: the commit the snapshot is filed under; Ollama: the manifest's digest.</summary>
    public string? Revision { get; init; }
    public override string ToString() => $"{ModelId} -> {To} {Name}";
}

/// <summary>What Optimize-ModelLibrary did (or, with -WhatIf, would do).</summary>
public sealed class OptimizeResult
{
    /// <summary>Files that became (or would become) hard links of an identical file.</summary>
    public int FilesLinked { get; init; }
    /// <summary>Bytes given back to the file system (or that would be).</summary>
    public long BytesSaved { get; init; }
    /// <summary>Each file linked: "<replaced> => <kept>".</summary>
    public string[] Links { get; init; } = Array.Empty<string>();
    /// <summary>True for -WhatIf: nothing was changed.</summary>
    public bool WhatIf { get; init; }
}
