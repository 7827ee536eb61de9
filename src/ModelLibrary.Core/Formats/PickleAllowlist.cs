using System.Text.RegularExpressions;

namespace ModelLibrary.Formats;

/// <summary>
/// The globals a pickle may import and still be considered safe to load. A global is safe when importing and
/// calling it can only build data (tensors, storages, dicts, arrays), never run code, open files or sockets, or
/// import further modules by name. Everything else is unsafe, including harmless-looking helpers, because a
/// pickle's power comes from chaining callables. Matching is exact on module and name: a dotted name such as
/// <c>OrderedDict.__init__</c> (which protocol 4 resolves attribute by attribute) is not on the list.
/// </summary>
/// <remarks>
/// Why each entry is here:
/// <list type="bullet">
/// <item><c>collections.OrderedDict</c>: the container every state_dict is saved as; it only stores items.</item>
/// <item><c>torch.*Storage</c> (FloatStorage, HalfStorage, BFloat16Storage, LongStorage, UntypedStorage, ...) and
/// <c>torch.cuda.*Storage</c> (what older torch wrote for tensors saved from a GPU): type
/// tags inside torch's persistent ids that say how to read a storage's bytes; torch.load looks them up, it does not
/// run anything from the pickle.</item>
/// <item><c>torch._utils._rebuild_tensor</c>, <c>_rebuild_tensor_v2</c>, <c>_rebuild_parameter</c>,
/// <c>_rebuild_parameter_with_state</c>: what torch.save writes to turn a storage into a tensor or Parameter; they
/// take a storage, sizes and strides. (Backward hooks they may receive would themselves be globals, checked here.)</item>
/// <item><c>torch.*Tensor</c> and <c>torch.cuda.*Tensor</c> legacy tensor types (FloatTensor, HalfTensor, ...; the
/// ten of <c>torch._tensor_classes</c>): the tar format of the first torch releases tags every tensor with its type
/// this way, and torch's own weights-only loader allows exactly these.</item>
/// <item><c>torch.Size</c>, <c>torch.device</c> and torch dtype singletons such as <c>torch.float16</c>: plain
/// value types that appear in saved metadata.</item>
/// <item><c>numpy.core.multiarray._reconstruct</c> / <c>numpy._core.multiarray._reconstruct</c> (numpy 2 renamed the
/// module), <c>numpy.ndarray</c>, <c>numpy.dtype</c>: how numpy arrays pickle; they allocate an array of a dtype.
/// An object-dtype array's elements would need further globals, which are checked.</item>
/// </list>
/// Deliberately not allowed: <c>_codecs.encode</c> (harmless alone, but its only use in a pickle is to make bytes for
/// another callable, e.g. the nested <c>pickle.loads</c> payload in picklescan's malicious13a; numpy arrays pickled
/// with protocol 2 use it too and are reported unsafe, an accepted false positive), <c>torch._tensor._rebuild_from_type_v2</c>
/// (calls a function it is given, then sets an arbitrary class), <c>builtins.*</c> (getattr, eval, exec, __import__ and even set/dict/slice: none is needed by model
/// files), <c>torch.storage._load_from_bytes</c> (calls torch.load on nested bytes) and copyreg extension codes.
/// </remarks>
public static partial class PickleAllowlist
{
    private static readonly HashSet<(string Module, string Name)> Exact = new()
    {
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch._utils", "_rebuild_parameter"),
        ("torch._utils", "_rebuild_parameter_with_state"),
        ("torch", "Size"),
        ("torch", "device"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    };

    private static readonly HashSet<string> TorchDTypes = new(StringComparer.Ordinal)
    {
        "float64", "float32", "float16", "bfloat16", "complex64", "complex128",
        "int64", "int32", "int16", "int8", "uint8", "bool",
        "float8_e4m3fn", "float8_e5m2",
    };

    // torch._tensor_classes: the legacy tensor types, and no others (torch.Tensor itself is not needed by model files).
    private static readonly HashSet<string> LegacyTensorTypes = new(StringComparer.Ordinal)
    {
        "DoubleTensor", "FloatTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
        "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
    };

    [GeneratedRegex("^[A-Za-z0-9]+Storage$", RegexOptions.CultureInvariant)]
    private static partial Regex StorageName();

    /// <summary>True when <paramref name="module"/>.<paramref name="name"/> is safe to import, with why.</summary>
    public static bool IsAllowed(string module, string name, out string reason)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        if (Exact.Contains((module, name)))
        {
            reason = "on the allowlist of data-building globals";
            return true;
        }
        if (module is ("torch" or "torch.cuda") && StorageName().IsMatch(name))
        {
            reason = "a torch storage type tag";
            return true;
        }
        if (module is ("torch" or "torch.cuda") && LegacyTensorTypes.Contains(name))
        {
            reason = "a legacy torch tensor type tag";
            return true;
        }
        if (module == "torch" && TorchDTypes.Contains(name))
        {
            reason = "a torch dtype value";
            return true;
        }
        reason = "not on the allowlist; importing it could run code when the file is loaded";
        return false;
    }
}
