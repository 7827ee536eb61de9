namespace ModelLibrary.Formats;

public enum PickleVerdict
{
    Safe,
    Unsafe,
}

public enum PickleContainer
{
    /// <summary>Pickles one after another in a plain file (a .pkl, or torch's legacy non-zip format).</summary>
    Raw,
    /// <summary>A zip archive (torch's current format) whose <c>*.pkl</c> entries were scanned.</summary>
    Zip,
    /// <summary>The tar archive of torch's first releases, whose <c>sys_info</c>, <c>pickle</c>, <c>tensors</c> and <c>storages</c> members were scanned.</summary>
    LegacyTar,
}

/// <summary>One global a pickle imports, and whether that is safe.</summary>
public sealed class PickleGlobal
{
    internal PickleGlobal(string module, string name, string opcode, bool isResolved, string? entry, long offset)
    {
        Module = module;
        Name = name;
        Opcode = opcode;
        IsResolved = isResolved;
        Entry = entry;
        Offset = offset;
        bool allowed = PickleAllowlist.IsAllowed(module, name, out var reason);
        if (!isResolved)
        {
            allowed = false;
            reason = "the module and name are not constant strings, so what it imports cannot be known before loading";
        }
        Verdict = allowed ? PickleVerdict.Safe : PickleVerdict.Unsafe;
        Reason = reason;
    }

    /// <summary>The module; for an unresolvable STACK_GLOBAL a description in angle brackets, e.g. <c>&lt;memo[3] never stored&gt;</c>.</summary>
    public string Module { get; }
    public string Name { get; }
    public string FullName => $"{Module}.{Name}";
    /// <summary>GLOBAL, INST, STACK_GLOBAL, or EXT1/EXT2/EXT4 (copyreg extension codes).</summary>
    public string Opcode { get; }
    /// <summary>False when a STACK_GLOBAL's operands were not constant strings (such a global is always unsafe).</summary>
    public bool IsResolved { get; }
    /// <summary>The zip entry or tar member the pickle came from, or null for a raw pickle file.</summary>
    public string? Entry { get; }
    /// <summary>Byte offset of the opcode (within the zip entry or tar member for archives).</summary>
    public long Offset { get; }
    public PickleVerdict Verdict { get; }
    public bool IsSafe => Verdict == PickleVerdict.Safe;
    public string Reason { get; }

    public override string ToString() => $"{FullName} [{Opcode}] {Verdict}";
}

/// <summary>The walk of one pickle stream: a raw file, one zip entry, or one tar member.</summary>
public sealed class PickleStreamResult
{
    internal PickleStreamResult(string? entry, int pickleCount, int protocol, long length, long? stoppedAt, string? stopReason)
    {
        Entry = entry;
        PickleCount = pickleCount;
        Protocol = protocol;
        Length = length;
        StoppedAt = stoppedAt;
        StopReason = stopReason;
    }

    public string? Entry { get; }
    /// <summary>Complete pickles (ending in STOP) found one after another.</summary>
    public int PickleCount { get; }
    /// <summary>The first pickle's protocol (its PROTO opcode, or 0 without one).</summary>
    public int Protocol { get; }
    public long Length { get; }
    /// <summary>
    /// Where the data stopped being a pickle after at least one complete one, e.g. the raw storage bytes that follow
    /// the pickles of torch's legacy format; null when the pickles cover the whole stream.
    /// </summary>
    public long? StoppedAt { get; }
    public string? StopReason { get; }
}

/// <summary>
/// TorchScript code in a zip archive (what <c>torch.jit.save</c> writes: Python source under <c>code/</c> and a
/// <c>constants.pkl</c>). <c>torch.jit.load</c>, and <c>torch.load</c> when it sees <c>constants.pkl</c>, compiles that
/// code and runs it as the model, so it can do anything the allowlist of globals is there to prevent.
/// </summary>
public sealed class TorchScriptCode
{
    /// <summary>Entries named in <see cref="Entries"/>; the count covers the rest.</summary>
    public const int MaxListed = 20;

    internal TorchScriptCode(IReadOnlyList<string> entries, int entryCount)
    {
        Entries = entries;
        EntryCount = entryCount;
    }

    /// <summary>The archive's code files and <c>constants.pkl</c>, the first <see cref="MaxListed"/> of them.</summary>
    public IReadOnlyList<string> Entries { get; }
    public int EntryCount { get; }

    public override string ToString() =>
        $"TorchScript code, which torch.jit.load compiles and runs ({EntryCount} file(s): {string.Join(", ", Entries)}{(EntryCount > Entries.Count ? ", ..." : "")})";
}

/// <summary>
/// The tensors a torch checkpoint's pickles rebuild, followed without running anything: how many distinct tensors,
/// their element count (the parameter count) and the dtype holding most of them. All null with
/// <see cref="UnknownReason"/> set when the pickles do something the scan does not follow.
/// </summary>
public sealed class TorchTensorSummary
{
    internal TorchTensorSummary(long? parameterCount, long? tensorCount, string? dominantDType, string? unknownReason)
    {
        ParameterCount = parameterCount;
        TensorCount = tensorCount;
        DominantDType = dominantDType;
        UnknownReason = unknownReason;
    }

    /// <summary>Sum of the distinct tensors' element counts; null when unknown or when there are no tensors.</summary>
    public long? ParameterCount { get; }
    public long? TensorCount { get; }
    /// <summary>The dtype holding most elements, spelled as safetensors spells it (F32, F16, BF16, I64, ...).</summary>
    public string? DominantDType { get; }
    /// <summary>Why the tensors could not be counted, or null when they were.</summary>
    public string? UnknownReason { get; }
}

/// <summary>Every global the pickles in a file import, each with a verdict, and the overall verdict.</summary>
public sealed class PickleScanResult
{
    internal PickleScanResult(string source, PickleContainer container, IReadOnlyList<PickleStreamResult> streams, IReadOnlyList<PickleGlobal> globals,
        TorchTensorSummary tensors, TorchScriptCode? torchScript = null, IReadOnlyList<string>? ambiguities = null)
    {
        Ambiguities = ambiguities ?? Array.Empty<string>();
        Source = source;
        Container = container;
        Streams = streams;
        Globals = globals;
        Tensors = tensors;
        TorchScript = torchScript;
    }

    /// <summary>The same result with one more reason it cannot be shown safe.</summary>
    internal PickleScanResult WithAmbiguity(string ambiguity) =>
        new(Source, Container, Streams, Globals, Tensors, TorchScript, Ambiguities.Append(ambiguity).ToArray());

    public string Source { get; }
    public PickleContainer Container { get; }
    public IReadOnlyList<PickleStreamResult> Streams { get; }
    /// <summary>Distinct globals (per entry, module, name and opcode) in the order first seen.</summary>
    public IReadOnlyList<PickleGlobal> Globals { get; }
    public IEnumerable<PickleGlobal> UnsafeGlobals => Globals.Where(g => !g.IsSafe);
    /// <summary>The unsafe globals' full names, each once.</summary>
    public string[] UnsafeGlobalNames => UnsafeGlobals.Select(g => g.FullName).Distinct(StringComparer.Ordinal).ToArray();
    /// <summary>TorchScript code found in a zip archive, or null. Such a file is unsafe whatever its pickles import.</summary>
    public TorchScriptCode? TorchScript { get; }
    public bool ContainsTorchScript => TorchScript is not null;
    /// <summary>
    /// Why the scanner cannot be sure it read the bytes torch.load would unpickle (a container two readers resolve
    /// differently, a pickle torch reads that the walk cannot follow). Any of them makes the file unsafe: what is not
    /// seen cannot be shown safe.
    /// </summary>
    public IReadOnlyList<string> Ambiguities { get; }
    public PickleVerdict Verdict => TorchScript is null && Ambiguities.Count == 0 && Globals.All(g => g.IsSafe) ? PickleVerdict.Safe : PickleVerdict.Unsafe;
    public bool IsSafe => Verdict == PickleVerdict.Safe;
    public int PickleCount => Streams.Sum(s => s.PickleCount);
    /// <summary>The protocol of the first pickle scanned.</summary>
    public int Protocol => Streams.Count > 0 ? Streams[0].Protocol : 0;
    /// <summary>The tensors torch would rebuild (from <c>data.pkl</c> in a zip archive), counted without loading anything.</summary>
    public TorchTensorSummary Tensors { get; }

    /// <summary>
    /// What makes the file unsafe, as a phrase to follow "holds": its TorchScript code and its unsafe globals; null
    /// when it is safe. Every message about an unsafe pickle says it this way.
    /// </summary>
    public string? DescribeUnsafeContent()
    {
        var findings = new List<string>();
        if (TorchScript is not null) findings.Add(TorchScript.ToString());
        if (UnsafeGlobalNames is { Length: > 0 } offending)
            findings.Add($"pickled references that can run code when loaded: {string.Join(", ", offending)}");
        if (Ambiguities.Count > 0)
            findings.Add($"content the scanner cannot be sure it read as torch.load would ({string.Join("; ", Ambiguities)})");
        return findings.Count == 0 ? null : string.Join("; and ", findings);
    }

    /// <summary>Throws <see cref="ModelSecurityException"/> (UnsafeModelContent) naming the TorchScript code and the unsafe globals, if any.</summary>
    public void ThrowIfUnsafe()
    {
        if (DescribeUnsafeContent() is not { } unsafeContent) return;
        throw Errors.UnsafeModelContent(
            $"'{Source}' holds {unsafeContent}.",
            Source,
            new Dictionary<string, object?>
            {
                ["path"] = Source,
                ["globals"] = UnsafeGlobalNames,
                ["torchscript_code"] = TorchScript?.Entries.ToArray(),
                ["ambiguities"] = Ambiguities.ToArray(),
            });
    }
}
