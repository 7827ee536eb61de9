using System.Globalization;

namespace ModelLibrary.Formats;

/// <summary>What <see cref="PickleStackMachine"/> knows about one value on the unpickler's stack.</summary>
internal abstract record PickleValue
{
    /// <summary>
    /// Anything the machine does not model: dicts, lists, sets, objects, results of calls, floats, bytes, None and
    /// booleans. Only its presence on the stack matters.
    /// </summary>
    public static readonly PickleValue Opaque = new OpaqueValue();
}

internal sealed record OpaqueValue : PickleValue;

internal sealed record IntValue(long Value) : PickleValue;

/// <summary>An integer too large for a long (LONG1/LONG4 of up to 32 bytes, or a long decimal line): torch's legacy magic number is one.</summary>
internal sealed record BigIntegerValue(System.Numerics.BigInteger Value) : PickleValue;

internal sealed record TextValue(string Value) : PickleValue;

internal sealed record TupleValue(PickleValue[] Items) : PickleValue;

internal sealed record GlobalValue(string Module, string Name) : PickleValue;

/// <summary>
/// A storage named by torch's persistent id. <paramref name="Identity"/> tells storages apart (the archive key, plus the
/// view of the legacy format); <paramref name="DType"/> is null for an untyped or unknown storage type.
/// </summary>
internal sealed record StorageValue(string Identity, string? DType) : PickleValue;

/// <summary>
/// A bounded model of the unpickler's stack, fed opcode by opcode by the import scan. It builds only constants, tuples
/// and marks, resolves torch's storage persistent ids, and records the tensors that allowlisted rebuild functions
/// (<c>torch._utils._rebuild_tensor_v2</c> and <c>_rebuild_tensor</c>) would make from a storage, an offset, a size
/// and a stride. It never calls anything: every other call, object or container is <see cref="PickleValue.Opaque"/>.
/// </summary>
/// <remarks>
/// Whatever it cannot follow (a stack that would underflow, a rebuild call whose arguments are not what torch writes,
/// a tensor torch rebuilds some other way, more values than its budget) makes the count unknown rather than partial:
/// the tally is told why, and the machine stops modelling until the next pickle. Memory is bounded by the budget
/// whatever the pickle declares: every value it keeps, every tuple item and every stack slot is counted.
/// </remarks>
internal sealed class PickleStackMachine(TorchTensorTally tally, string? entry, string entryKind = "zip entry")
{
    /// <summary>Units of kept data per pickle (one per value or tuple item, one per 8 characters of text): about 100 000 tensors.</summary>
    internal const int MaxUnits = 4_000_000;
    /// <summary>Stack slots plus open marks; nested containers in real checkpoints stay in the thousands.</summary>
    internal const int MaxStackDepth = 1_000_000;
    /// <summary>Tuples longer than this are kept as opaque: torch's tuples (persistent ids, sizes, rebuild arguments) are short.</summary>
    internal const int MaxTupleItems = 64;
    /// <summary>Memo entries kept per pickle; the scan's own memo has the same bound.</summary>
    internal const int MaxMemoEntries = 1_000_000;

    private static readonly HashSet<string> TensorRebuilders = new(StringComparer.Ordinal) { "_rebuild_tensor_v2", "_rebuild_tensor" };
    // Wrap a tensor rebuilt by one of the above (nn.Parameter): nothing more to count.
    private static readonly HashSet<string> TensorWrappers = new(StringComparer.Ordinal) { "_rebuild_parameter", "_rebuild_parameter_with_state" };

    private readonly List<PickleValue> _stack = new();
    // Stack positions where the open marks are (Python keeps a metastack of frames; positions are the same thing).
    private readonly List<int> _marks = new();
    private readonly Dictionary<long, PickleValue> _memo = new();
    // Tensors of the pickle under way; they count only once its STOP is reached.
    private readonly List<(string Identity, long Elements, string? DType)> _pending = new();
    private long _units;
    private bool _stopped;

    /// <summary>True when the last pickle's STOP found nothing to return, which CPython's unpickler refuses with an error.</summary>
    public bool StoppedOnEmptyStack { get; private set; }

    /// <summary>The value the last complete pickle produced (STOP's operand), or null when it could not be followed.</summary>
    public PickleValue? Result { get; private set; }

    /// <summary>Starts a new pickle: the stack, marks and memo are per pickle, as in the unpickler.</summary>
    public void Reset()
    {
        _stack.Clear();
        _marks.Clear();
        _memo.Clear();
        _pending.Clear();
        _units = 0;
        _stopped = false;
        StoppedOnEmptyStack = false;
        Result = null;
    }

    public void Push(PickleValue value, int units = 1)
    {
        if (_stopped) return;
        if (_stack.Count + _marks.Count >= MaxStackDepth) { GiveUp($"the pickle nests deeper than {MaxStackDepth} values"); return; }
        if (!Spend(units)) return;
        _stack.Add(value);
    }

    public void PushInt(long value) => Push(new IntValue(value));

    /// <summary>A string; null stands for one the scan did not keep (too long, or escaped).</summary>
    public void PushText(string? text)
    {
        if (text is null) Push(PickleValue.Opaque);
        else Push(new TextValue(text), 1 + text.Length / 8);
    }

    public void Mark()
    {
        if (_stopped) return;
        if (_stack.Count + _marks.Count >= MaxStackDepth) { GiveUp($"the pickle nests deeper than {MaxStackDepth} values"); return; }
        _marks.Add(_stack.Count);
    }

    /// <summary>GLOBAL: the named global, by name only (nothing is imported).</summary>
    public void Global(string module, string name) => Push(new GlobalValue(module, name));

    public void StackGlobal()
    {
        if (!Pop(2, out var operands)) return;
        Push(operands[0] is TextValue module && operands[1] is TextValue name ? new GlobalValue(module.Value, name.Value) : PickleValue.Opaque);
    }

    /// <summary>TUPLE (<paramref name="count"/> null: back to the mark), EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3.</summary>
    public void Tuple(int? count)
    {
        if (!(count is int n ? Pop(n, out var items) : PopToMark(out items))) return;
        if (items.Length > MaxTupleItems) Push(PickleValue.Opaque);
        else Push(new TupleValue(items), 1 + items.Length);
    }

    /// <summary>Opcodes that pop <paramref name="count"/> values and leave an opaque result (NEWOBJ: 2, NEWOBJ_EX: 3).</summary>
    public void ReplaceWithOpaque(int count)
    {
        if (Pop(count, out _)) Push(PickleValue.Opaque);
    }

    /// <summary>LIST, DICT, FROZENSET, INST and OBJ: everything back to the mark becomes one opaque value.</summary>
    public void CollapseMark()
    {
        if (PopToMark(out _)) Push(PickleValue.Opaque);
    }

    /// <summary>
    /// APPEND (1), SETITEM (2), BUILD (1): the operands are consumed and the container or object below them stays,
    /// as it was (the machine does not model its contents).
    /// </summary>
    public void Consume(int count)
    {
        if (Pop(count, out _) && FrameCount() < 1) GiveUp("a container operation has no container below its operands");
    }

    /// <summary>APPENDS, SETITEMS, ADDITEMS: the values back to the mark are consumed; the container below stays.</summary>
    public void ConsumeToMark()
    {
        if (PopToMark(out _) && FrameCount() < 1) GiveUp("a container operation has no container below its operands");
    }

    public void Pop()
    {
        if (_stopped) return;
        // As in the unpickler: POP on an empty frame discards the mark instead.
        if (FrameCount() > 0) _stack.RemoveAt(_stack.Count - 1);
        else PopToMark(out _);
    }

    public void PopMark() => PopToMark(out _);

    public void Dup()
    {
        if (_stopped) return;
        if (FrameCount() < 1) { GiveUp("DUP on an empty stack"); return; }
        Push(_stack[^1]);
    }

    public void Put(long index)
    {
        if (_stopped) return;
        if (FrameCount() < 1) { GiveUp("PUT on an empty stack"); return; }
        if (_memo.Count >= MaxMemoEntries && !_memo.ContainsKey(index)) { GiveUp($"the pickle memoizes more than {MaxMemoEntries} values"); return; }
        _memo[index] = _stack[^1];
    }

    public void Memoize() => Put(_memo.Count);

    public void Get(long index)
    {
        if (_stopped) return;
        if (_memo.TryGetValue(index, out var value)) Push(value);
        else GiveUp($"memo entry {index} is read before it is written");
    }

    /// <summary>BINPERSID: torch's <c>('storage', storage_type, key, location, numel[, view_metadata])</c> becomes a storage.</summary>
    public void PersistentId()
    {
        if (!Pop(1, out var operand)) return;
        Push(ToStorage(operand[0]) ?? PickleValue.Opaque);
    }

    /// <summary>REDUCE: a tensor rebuild is recorded; any other call only yields an opaque value.</summary>
    public void Reduce()
    {
        if (!Pop(2, out var operands)) return;
        if (operands[0] is GlobalValue { Module: "torch._utils" } callable && callable.Name.StartsWith("_rebuild_", StringComparison.Ordinal))
        {
            if (TensorWrappers.Contains(callable.Name))
            {
                Push(PickleValue.Opaque);
                return;
            }
            if (!TensorRebuilders.Contains(callable.Name))
            {
                // Sparse, quantized, meta and other tensors are rebuilt from arguments this machine does not read.
                GiveUp($"a tensor is rebuilt with torch._utils.{callable.Name}, whose size is not read");
                return;
            }
            if (!RecordTensor(operands[1])) return;
        }
        Push(PickleValue.Opaque);
    }

    /// <summary>STOP: the pickle is complete, so its tensors count.</summary>
    public void Stop()
    {
        if (_stopped) return;
        if (FrameCount() < 1)
        {
            // CPython raises "unpickling stack underflow" here: the load fails and nothing after it is read.
            StoppedOnEmptyStack = true;
            GiveUp("STOP on an empty stack");
            return;
        }
        Result = _stack[^1];
        foreach (var (identity, elements, dtype) in _pending) tally.Add(identity, elements, dtype);
        _pending.Clear();
    }

    /// <summary>Stops modelling this pickle; the parameter count of the whole file becomes unknown.</summary>
    public void GiveUp(string reason)
    {
        if (_stopped) return;
        _stopped = true;
        Result = null;
        _pending.Clear();
        tally.MarkUnknown(entry is null ? reason : $"{entryKind} '{entry}': {reason}");
    }

    private bool RecordTensor(PickleValue arguments)
    {
        // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]);
        // _rebuild_tensor(storage, storage_offset, size, stride).
        if (arguments is not TupleValue { Items.Length: >= 4 } args
            || args.Items[0] is not StorageValue storage
            || args.Items[1] is not IntValue { Value: >= 0 } offset
            || ReadShape(args.Items[2]) is not long[] size
            || ReadShape(args.Items[3]) is not long[] stride)
        {
            GiveUp("a tensor is rebuilt from arguments that are not a storage, an offset, a size and a stride");
            return false;
        }
        long elements = 1;
        foreach (long dimension in size)
        {
            if (dimension != 0 && elements > long.MaxValue / dimension) { GiveUp("a tensor's element count overflows"); return false; }
            elements *= dimension;
        }
        // The same view of the same storage is one tensor, whichever names it has (tied weights are counted once).
        string identity = string.Join('|', storage.Identity, offset.Value.ToString(CultureInfo.InvariantCulture),
            string.Join(',', size), string.Join(',', stride));
        _pending.Add((identity, elements, storage.DType));
        return true;
    }

    private static long[]? ReadShape(PickleValue value)
    {
        if (value is not TupleValue tuple) return null;
        var shape = new long[tuple.Items.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            if (tuple.Items[i] is not IntValue { Value: >= 0 } dimension) return null;
            shape[i] = dimension.Value;
        }
        return shape;
    }

    private StorageValue? ToStorage(PickleValue persistentId)
    {
        // Zip format: ('storage', storage_type, key, location, numel); legacy format adds view_metadata, which is
        // None or (view_key, offset, view_size).
        if (persistentId is not TupleValue { Items.Length: 5 or 6 } id
            || id.Items[0] is not TextValue { Value: "storage" }
            || id.Items[1] is not GlobalValue storageType
            || KeyText(id.Items[2]) is not string key)
        {
            return null;
        }
        string identity = (entry ?? "") + ":" + key;
        if (id.Items.Length == 6 && id.Items[5] is TupleValue { Items.Length: 3 } view)
        {
            if (KeyText(view.Items[0]) is not string viewKey) return null;
            identity += "/" + viewKey;
        }
        return new StorageValue(identity, TorchScalarTypes.TryGet(storageType.Module, storageType.Name, out var dtype, out _) ? dtype : null);
    }

    /// <summary>A storage or tensor key as text: torch writes strings, its first releases wrote integers.</summary>
    internal static string? KeyText(PickleValue value) => value switch
    {
        TextValue text => text.Value,
        IntValue number => number.Value.ToString(CultureInfo.InvariantCulture),
        _ => null,
    };

    private bool Spend(int units)
    {
        _units += units;
        if (_units <= MaxUnits) return true;
        GiveUp($"the pickle holds more than {MaxUnits} values to follow");
        return false;
    }

    private int FrameCount() => _stack.Count - (_marks.Count > 0 ? _marks[^1] : 0);

    private bool Pop(int count, out PickleValue[] items)
    {
        items = Array.Empty<PickleValue>();
        if (_stopped) return false;
        if (FrameCount() < count) { GiveUp("an opcode takes more values than the stack holds"); return false; }
        items = _stack.GetRange(_stack.Count - count, count).ToArray();
        _stack.RemoveRange(_stack.Count - count, count);
        return true;
    }

    private bool PopToMark(out PickleValue[] items)
    {
        items = Array.Empty<PickleValue>();
        if (_stopped) return false;
        if (_marks.Count == 0) { GiveUp("an opcode looks for a MARK that is not there"); return false; }
        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        items = _stack.GetRange(start, _stack.Count - start).ToArray();
        _stack.RemoveRange(start, _stack.Count - start);
        return true;
    }
}

/// <summary>
/// The tensors found across the pickles of one file, counted once per distinct view of a storage, and whether the count
/// could be trusted.
/// </summary>
internal sealed class TorchTensorTally
{
    /// <summary>Distinct tensors remembered per file; beyond this the count is unknown rather than costly.</summary>
    internal const int MaxTensors = 1_000_000;

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    // Elements per dtype ("" for tensors on an untyped storage).
    private readonly Dictionary<string, long> _elementsByDType = new(StringComparer.Ordinal);
    private long _parameters;
    private string? _unknownReason;

    public void Add(string identity, long elements, string? dtype)
    {
        if (_unknownReason is not null || !_seen.Add(identity)) return;
        if (_seen.Count > MaxTensors) { MarkUnknown($"the file holds more than {MaxTensors} tensors"); return; }
        if (elements > long.MaxValue - _parameters) { MarkUnknown("the parameter count overflows"); return; }
        _parameters += elements;
        _elementsByDType[dtype ?? ""] = _elementsByDType.GetValueOrDefault(dtype ?? "") + elements;
    }

    /// <summary>Keeps the first reason: later ones usually follow from it.</summary>
    public void MarkUnknown(string reason) => _unknownReason ??= reason;

    public TorchTensorSummary Summarize()
    {
        if (_unknownReason is not null) return new TorchTensorSummary(null, null, null, _unknownReason);
        string? dominant = _elementsByDType.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key).FirstOrDefault();
        return new TorchTensorSummary(_seen.Count == 0 ? null : _parameters, _seen.Count, string.IsNullOrEmpty(dominant) ? null : dominant, null);
    }
}
