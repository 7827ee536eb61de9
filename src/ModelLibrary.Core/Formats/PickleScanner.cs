using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace ModelLibrary.Formats;

/// <summary>
/// Finds the globals a pickle imports without unpickling it: it walks the opcodes the way Python's
/// <c>pickletools.genops</c> does, resolving GLOBAL and INST from their arguments and STACK_GLOBAL from the two
/// values below it on the stack (constant string pushes, followed through PUT/MEMOIZE and GET). Raw files may hold
/// several pickles one after another (torch's legacy format); the walk stops cleanly where the data stops being a
/// pickle, after at least one complete one. Zip files (torch's current format) have every <c>*.pkl</c> entry scanned,
/// and TorchScript code found; tar files (torch's first format) have their pickle members scanned, following the
/// layout of the members that mix pickles with raw data. Alongside, a <see cref="PickleStackMachine"/> counts the
/// tensors the pickles rebuild.
/// </summary>
public static partial class PickleScanner
{
    /// <summary>A torch data.pkl (or a legacy tar's pickle member) holds only structure and is a few MB even for huge models.</summary>
    public const long MaxZipEntryLength = 1L << 30;

    public static PickleScanResult Scan(string path, CancellationToken cancellationToken = default)
    {
        using var stream = FormatIO.OpenRead(path);
        return Scan(stream, path, cancellationToken);
    }

    /// <summary>
    /// Scans a seekable stream positioned at the start of a raw pickle file, a zip archive or a legacy tar. Containers
    /// are read as torch.load's own readers read them; where they could be read two ways, the result is unsafe
    /// (<see cref="PickleScanResult.Ambiguities"/>) rather than a guess.
    /// </summary>
    public static PickleScanResult Scan(Stream stream, string sourceName, CancellationToken cancellationToken = default)
    {
        long length = FormatIO.RemainingLength(stream);
        return FormatIO.Parse(sourceName, () =>
        {
            if (length == 0) throw new MalformedFileException("the file is empty");
            Span<byte> start = stackalloc byte[TarBlockSize];
            long origin = stream.Position;
            int read = stream.ReadAtLeast(start, TarBlockSize, throwOnEndOfStream: false);
            stream.Position = origin;
            var container = IsZip(start[..read]) ? PickleContainer.Zip : IsTar(start[..read]) ? PickleContainer.LegacyTar : PickleContainer.Raw;
            var state = new ScanState();
            try
            {
                switch (container)
                {
                    case PickleContainer.Zip: ScanZip(stream, state, cancellationToken); break;
                    case PickleContainer.LegacyTar when !ScanTar(stream, state, cancellationToken):
                        // torch.load catches tarfile's error and reads the file from its start as a raw pickle: so does the scan.
                        stream.Position = origin;
                        state.Streams.Clear();
                        container = PickleContainer.Raw;
                        ScanRaw(stream, length, state, cancellationToken);
                        break;
                    case PickleContainer.LegacyTar: break;
                    default: ScanRaw(stream, length, state, cancellationToken); break;
                }
            }
            catch (UnsafeStructureException ex)
            {
                state.Ambiguities.Add(ex.Message);
                state.Tensors.MarkUnknown("the file's structure is ambiguous");
            }
            return new PickleScanResult(sourceName, container, state.Streams, state.Globals.Items, state.Tensors.Summarize(), state.TorchScript, state.Ambiguities);
        });
    }

    /// <summary>What a scan has found so far; kept when an ambiguity cuts it short, so the report names what was seen.</summary>
    private sealed class ScanState
    {
        public GlobalCollector Globals { get; } = new();
        public TorchTensorTally Tensors { get; } = new();
        public List<PickleStreamResult> Streams { get; } = new();
        public List<string> Ambiguities { get; } = new();
        public TorchScriptCode? TorchScript { get; set; }
    }

    /// <summary>
    /// For a file that comes along with a model (a folder import copies every file): the scan of it when a loader could
    /// unpickle it, else null. A file whose name says pickle is scanned from its first byte whatever it also is (one
    /// that cannot be scanned is <see cref="ValidationException"/>, InvalidModelFile; one that is also GGUF or
    /// safetensors is unsafe); any other file is scanned when its first bytes are a pickle, a zip or a tar, and passes
    /// when the scan shows it is none of torch's.
    /// </summary>
    public static PickleScanResult? ScanCompanionFile(string path, CancellationToken cancellationToken = default)
    {
        bool named = ModelFileNames.IsPickle(path);
        if (!named && !StartsLikePickleOrArchive(path)) return null;
        PickleScanResult scan;
        try
        {
            scan = Scan(path, cancellationToken);
        }
        catch (ValidationException) when (!named)
        {
            return null;
        }
        if (named && ModelFileInspector.DetectFormat(path) is var format and (ModelFileFormat.Gguf or ModelFileFormat.Safetensors))
            scan = scan.WithAmbiguity($"the file is also a {format} file, and a pickle torch.load would unpickle from its first byte");
        return scan;
    }

    private static bool StartsLikePickleOrArchive(string path)
    {
        using var stream = FormatIO.OpenRead(path);
        Span<byte> start = stackalloc byte[TarBlockSize];
        start = start[..stream.ReadAtLeast(start, TarBlockSize, throwOnEndOfStream: false)];
        return (start.Length >= 2 && start[0] == 0x80 && start[1] <= 5) || IsZip(start) || IsTar(start);
    }

    /// <summary>Scans the file and throws <see cref="ModelSecurityException"/> (UnsafeModelContent) if any global is unsafe.</summary>
    public static PickleScanResult EnsureSafe(string path, CancellationToken cancellationToken = default)
    {
        var result = Scan(path, cancellationToken);
        result.ThrowIfUnsafe();
        return result;
    }

    /// <summary>torch.load's _is_zipfile looks for a local file header; an empty archive starts with its end record.</summary>
    internal static bool IsZip(ReadOnlySpan<byte> start) =>
        start.StartsWith("PK\x03\x04"u8) || start.StartsWith("PK\x05\x06"u8);

    /// <summary>A zip entry that holds a pickle, by its name (torch names them <c>data.pkl</c>, <c>constants.pkl</c>).</summary>
    internal static bool IsPickleEntry(string entryName) =>
        entryName.EndsWith(".pkl", StringComparison.OrdinalIgnoreCase) || entryName.EndsWith(".pickle", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A zip entry of torch.jit.save's layout: a file under <c>code/</c>, or <c>constants.pkl</c> (what torch.load looks
    /// for to hand a file to torch.jit.load). torch reads both relative to the archive's one top-level folder, so they
    /// count at the root or one folder down.
    /// </summary>
    internal static bool IsTorchScriptEntry(string entryName)
    {
        var segments = entryName.Replace('\\', '/').Split('/');
        if (segments[^1].Length == 0) return false; // a folder entry
        int depth = segments.Length - 1;
        return (depth <= 1 && segments[^1] == "constants.pkl")
            || (depth >= 1 && segments[0] == "code")
            || (depth >= 2 && segments[1] == "code");
    }

    /// <summary>
    /// A raw file: one pickle (what pickle.load reads), or torch's legacy layout when the first pickle is torch's magic
    /// number: then torch.load unpickles exactly five (magic, protocol version, sys info, the object, the storage
    /// keys) and reads raw storage bytes after them. Those five are followed strictly: CPython accepts spellings the
    /// walk does not (lone surrogates, "1_001", a padded memo index), so a pickle that cannot be followed where torch
    /// unpickles one is unsafe, never "data from here on". Nothing after the fifth is a pickle, whatever its bytes.
    /// </summary>
    private static void ScanRaw(Stream stream, long length, ScanState state, CancellationToken cancellationToken)
    {
        var reader = new BoundedReader(stream, length);
        var walker = new Walker(reader, entry: null, state.Globals, state.Tensors, cancellationToken);
        int protocol;
        try
        {
            protocol = walker.WalkOne();
        }
        catch (MalformedFileException ex)
        {
            throw walker.Failure("not a complete pickle", ex);
        }
        // pickle.load and torch.load both fail at such a STOP ("unpickling stack underflow"): not a pickle at all.
        if (walker.StoppedOnEmptyStack)
            throw walker.Failure("not a complete pickle", new MalformedFileException("its STOP finds an empty stack, which the unpickler refuses", reader.Position - 1));
        var first = walker.LastValue;
        bool magic = first is BigIntegerValue { Value: var m } && m == LegacyMagicNumber;
        // A value the machine followed is surely not the magic number unless it is; so is a container or object built by
        // allowlisted calls alone (none of them returns an 80-bit integer). A pickle it gave up on, or one whose value
        // an unsafe call made, may have been the magic number: the legacy layout is assumed.
        bool surelyNotMagic = first is not null && (first is not OpaqueValue || state.Globals.Items.All(g => g.IsSafe));
        if (surelyNotMagic && !magic)
        {
            // torch.load raises "Invalid magic number" after this pickle and pickle.load reads only it; any further
            // pickles are scanned too, and the data stops counting as pickles where they stop.
            state.Streams.Add(walker.WalkRest(complete: 1, protocol));
            return;
        }
        int complete = 1;
        for (; complete < LegacyPickleCount && reader.Remaining > 0; complete++)
        {
            long start = reader.Position;
            try
            {
                walker.WalkOne();
            }
            catch (MalformedFileException ex)
            {
                state.Streams.Add(new PickleStreamResult(null, complete, protocol, reader.Length, start, ex.Message));
                throw new UnsafeStructureException(
                    $"torch.load unpickles pickle {complete + 1} of its legacy layout at byte {start}, and it cannot be followed: {ex.Message}");
            }
        }
        if (magic && complete < LegacyPickleCount)
            throw new MalformedFileException($"the legacy torch file ends after {complete} of its {LegacyPickleCount} pickles");
        state.Streams.Add(new PickleStreamResult(null, complete, protocol, reader.Length,
            reader.Remaining > 0 ? reader.Position : null,
            reader.Remaining > 0 ? "raw storage data of torch's legacy format, which torch.load reads as bytes, not as a pickle" : null));
    }

    /// <summary>torch.serialization.MAGIC_NUMBER, the first pickle of torch's legacy (non-zip, non-tar) format.</summary>
    internal static readonly System.Numerics.BigInteger LegacyMagicNumber = System.Numerics.BigInteger.Parse("1950a86a20f9469cfc6c", NumberStyles.HexNumber);

    /// <summary>magic number, protocol version, sys info, the object, the storage keys.</summary>
    internal const int LegacyPickleCount = 5;

    private static void ScanZip(Stream stream, ScanState state, CancellationToken cancellationToken)
    {
        long origin = stream.Position;
        ZipLayout.Check(stream, cancellationToken);
        stream.Position = origin;
        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var torchScript = archive.Entries.Select(e => e.FullName).Where(IsTorchScriptEntry).ToList();
            if (torchScript.Count > 0)
                state.TorchScript = new TorchScriptCode(torchScript.Take(TorchScriptCode.MaxListed).ToList(), torchScript.Count);
            var entries = archive.Entries.Where(e => IsPickleEntry(e.FullName)).ToList();
            // TorchScript without pickles (torch 1.0-1.3 wrote model.json instead) is still code that would run.
            if (entries.Count == 0 && state.TorchScript is null) throw new MalformedFileException("the zip archive holds no .pkl entry");
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (entry.Length > MaxZipEntryLength)
                    throw new MalformedFileException($"zip entry '{entry.FullName}' is {entry.Length} bytes, over the limit of {MaxZipEntryLength}");
                using var entryStream = entry.Open();
                // torch.load unpickles data.pkl; other pickles in the archive are scanned but hold no tensors of the model.
                bool holdsTensors = entry.Name.Equals("data.pkl", StringComparison.Ordinal);
                var walker = new Walker(new BoundedReader(entryStream, entry.Length), entry.FullName, state.Globals, holdsTensors ? state.Tensors : null, cancellationToken);
                state.Streams.Add(walker.WalkStream());
            }
        }
        catch (InvalidDataException ex)
        {
            throw new MalformedFileException($"the zip archive is corrupt: {ex.Message}", null, ex);
        }
    }

    /// <summary>Keeps globals distinct per entry, module, name and opcode, in the order first seen.</summary>
    private sealed class GlobalCollector
    {
        private readonly HashSet<(string?, string, string, string)> _seen = new();
        public List<PickleGlobal> Items { get; } = new();

        public void Add(string module, string name, string opcode, bool resolved, string? entry, long offset)
        {
            if (_seen.Add((entry, module, name, opcode)))
                Items.Add(new PickleGlobal(module, name, opcode, resolved, entry, offset));
        }
    }

    /// <summary>What the walk knows about a stack value: a constant string (Text) or only a description.</summary>
    private readonly record struct StackValue(string? Text, string Description)
    {
        public static StackValue String(string text) => new(text, text);
        public static StackValue Other(string description) => new(null, description);
        public string Display => Text ?? Description;
    }

    /// <summary>
    /// Walks the opcodes of the pickles in one stream, reporting every import to <paramref name="globals"/>; with a
    /// <paramref name="tensors"/> tally it also runs a <see cref="PickleStackMachine"/> over them to count tensors.
    /// </summary>
    private sealed class Walker(BoundedReader reader, string? entry, GlobalCollector globals, TorchTensorTally? tensors, CancellationToken cancellationToken,
        string entryKind = "zip entry")
    {
        // Module and class names are short; a longer string can never resolve to an allowed global, so it is skipped
        // rather than kept, which bounds memory whatever the pickle declares.
        private const int MaxKeptString = 1024;
        // PUT/MEMOIZE entries remembered per pickle; beyond this GETs resolve to "not tracked", which is unsafe, never safe.
        private const int MaxMemoEntries = 1_000_000;

        private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);
        private static readonly StackValue Unknown = StackValue.Other("<unknown stack value>");

        private readonly Dictionary<long, StackValue> _memo = new();
        private readonly PickleStackMachine? _machine = tensors is null ? null : new PickleStackMachine(tensors, entry, entryKind);
        // Only the two topmost stack values matter (STACK_GLOBAL's operands); anything that is not a plain push makes them unknown.
        private StackValue _top = Unknown;
        private StackValue _second = Unknown;
        private long _opcodes;

        public PickleStreamResult WalkStream()
        {
            if (reader.Length == 0) throw new MalformedFileException("the pickle data is empty");
            int protocol;
            try
            {
                protocol = WalkOne();
            }
            catch (MalformedFileException ex)
            {
                throw Failure("not a complete pickle", ex);
            }
            return WalkRest(1, protocol);
        }

        /// <summary>After <paramref name="complete"/> pickles: further pickles, up to where the bytes stop being one.</summary>
        public PickleStreamResult WalkRest(int complete, int protocol)
        {
            while (reader.Remaining > 0)
            {
                long start = reader.Position;
                try
                {
                    WalkOne();
                    complete++;
                }
                catch (MalformedFileException ex)
                {
                    // Bytes no loader unpickles (the first pickle decided that); globals met before the error stay reported.
                    return new PickleStreamResult(entry, complete, protocol, reader.Length, start, ex.Message);
                }
            }
            return new PickleStreamResult(entry, complete, protocol, reader.Length, null, null);
        }

        /// <summary>
        /// The error for a stream that cannot be walked, naming where and the globals met before it: an import seen
        /// before the data broke off is worth knowing even though the file is invalid.
        /// </summary>
        public MalformedFileException Failure(string what, MalformedFileException ex)
        {
            string where = entry is null ? "" : $"{entryKind} '{entry}': ";
            string seen = globals.Items.Count == 0 ? "" : $"; globals seen before the error: {string.Join(", ", globals.Items.Select(g => g.FullName))}";
            return new MalformedFileException($"{where}{what}: {ex.Message}{seen}", null, ex);
        }

        /// <summary>The value the last complete pickle built, as far as the stack machine follows it (null without one).</summary>
        public PickleValue? LastValue => _machine?.Result;

        /// <summary>True when the last pickle's STOP would raise in CPython (see <see cref="PickleStackMachine.StoppedOnEmptyStack"/>).</summary>
        public bool StoppedOnEmptyStack => _machine?.StoppedOnEmptyStack == true;

        /// <summary>Walks one pickle up to and including STOP; returns its protocol.</summary>
        public int WalkOne()
        {
            _memo.Clear();
            _machine?.Reset();
            _top = _second = Unknown;
            int protocol = 0;
            bool first = true;
            while (true)
            {
                if ((++_opcodes & 4095) == 0) cancellationToken.ThrowIfCancellationRequested();
                long at = reader.Position;
                if (reader.Remaining <= 0) throw new MalformedFileException("the pickle ends before its STOP opcode", at);
                byte op = reader.ReadByte();
                switch (op)
                {
                    case (byte)'.': // STOP
                        _machine?.Stop();
                        return protocol;

                    case 0x80: // PROTO
                        int version = reader.ReadByte();
                        if (version > 5) throw new MalformedFileException($"unsupported pickle protocol {version}", at);
                        if (first) protocol = version;
                        break;
                    case 0x95: // FRAME: a length hint only
                        ulong frame = reader.ReadUInt64();
                        if (frame > (ulong)reader.Remaining) throw new MalformedFileException($"a FRAME of {frame} bytes runs past the end", at);
                        break;

                    // Values that are not strings: only their description matters to the import scan; the stack
                    // machine keeps integers (sizes, strides, offsets, counts) and the empty tuple (a scalar's size).
                    case (byte)'N': PushOther("<non-string NONE>"); break;
                    case 0x88: PushOther("<non-string NEWTRUE>"); break;
                    case 0x89: PushOther("<non-string NEWFALSE>"); break;
                    case (byte)'}': PushOther("<non-string EMPTY_DICT>"); break;
                    case (byte)']': PushOther("<non-string EMPTY_LIST>"); break;
                    case (byte)')': Push(StackValue.Other("<non-string EMPTY_TUPLE>")); _machine?.Tuple(0); break;
                    case 0x8f: PushOther("<non-string EMPTY_SET>"); break;
                    case 0x97: PushOther("<non-string NEXT_BUFFER>"); break;
                    case (byte)'J': PushInteger(reader.ReadInt32(), "BININT"); break;
                    case (byte)'K': PushInteger(reader.ReadByte(), "BININT1"); break;
                    case (byte)'M': PushInteger(reader.ReadUInt16(), "BININT2"); break;
                    case (byte)'G': reader.Skip(8, "BINFLOAT"); PushOther("<non-string BINFLOAT>"); break;
                    case (byte)'I': PushNumberLine("INT", at); break;
                    case (byte)'L': PushNumberLine("LONG", at); break;
                    case (byte)'F': PushNumberLine("FLOAT", at); break;
                    case (byte)'P': PushLine("PERSID"); break;
                    case 0x8a: PushLong(reader.ReadByte(), "LONG1"); break;
                    case 0x8b: PushLong(reader.ReadInt32(), "LONG4"); break;
                    case (byte)'C': SkipCounted(reader.ReadByte(), "SHORT_BINBYTES"); break;
                    case (byte)'B': SkipCounted(reader.ReadUInt32(), "BINBYTES"); break;
                    case 0x8e: SkipCounted(ToLength(reader.ReadUInt64(), "BINBYTES8"), "BINBYTES8"); break;
                    case 0x96: SkipCounted(ToLength(reader.ReadUInt64(), "BYTEARRAY8"), "BYTEARRAY8"); break;

                    // Strings: candidates for STACK_GLOBAL's module and name.
                    case (byte)'S': PushQuotedString(); break;
                    case (byte)'V': PushRawUnicodeLine(); break;
                    case (byte)'T': PushCountedString(reader.ReadInt32(), "BINSTRING", Encoding.Latin1); break;
                    case (byte)'U': PushCountedString(reader.ReadByte(), "SHORT_BINSTRING", Encoding.Latin1); break;
                    case (byte)'X': PushCountedString(reader.ReadUInt32(), "BINUNICODE", StrictUtf8); break;
                    case 0x8c: PushCountedString(reader.ReadByte(), "SHORT_BINUNICODE", StrictUtf8); break;
                    case 0x8d: PushCountedString(ToLength(reader.ReadUInt64(), "BINUNICODE8"), "BINUNICODE8", StrictUtf8); break;

                    // Memo.
                    case (byte)'p': Memoize(ReadDecimalLine("PUT"), at); break;
                    case (byte)'q': Memoize(reader.ReadByte(), at); break;
                    case (byte)'r': Memoize(reader.ReadUInt32(), at); break;
                    case 0x94: Memoize(_memo.Count, at); break;
                    case (byte)'g': Recall(ReadDecimalLine("GET")); break;
                    case (byte)'h': Recall(reader.ReadByte()); break;
                    case (byte)'j': Recall(reader.ReadUInt32()); break;

                    // Imports.
                    case (byte)'c': // GLOBAL
                    {
                        var (module, name) = ReadGlobalLines();
                        globals.Add(module, name, "GLOBAL", resolved: true, entry, at);
                        Push(StackValue.Other($"<global {module}.{name}>"));
                        _machine?.Global(module, name);
                        break;
                    }
                    case (byte)'i': // INST
                    {
                        var (module, name) = ReadGlobalLines();
                        globals.Add(module, name, "INST", resolved: true, entry, at);
                        Clobber();
                        _machine?.CollapseMark();
                        break;
                    }
                    case 0x93: // STACK_GLOBAL
                        globals.Add(_second.Display, _top.Display, "STACK_GLOBAL", _second.Text is not null && _top.Text is not null, entry, at);
                        Clobber();
                        _machine?.StackGlobal();
                        break;
                    case 0x82: Extension(reader.ReadByte(), "EXT1", at); break;
                    case 0x83: Extension(reader.ReadUInt16(), "EXT2", at); break;
                    case 0x84: Extension(reader.ReadInt32(), "EXT4", at); break;

                    case (byte)'2': // DUP
                        _second = _top;
                        _machine?.Dup();
                        break;
                    case 0x98: // READONLY_BUFFER replaces the top value
                        _top = StackValue.Other("<non-string READONLY_BUFFER>");
                        _machine?.ReplaceWithOpaque(1);
                        break;

                    // Everything else pops, builds or calls: the top of the stack is no longer a known constant.
                    case (byte)'(': Clobber(); _machine?.Mark(); break;
                    case (byte)'0': Clobber(); _machine?.Pop(); break;
                    case (byte)'1': Clobber(); _machine?.PopMark(); break;
                    case (byte)'Q': Clobber(); _machine?.PersistentId(); break;
                    case (byte)'R': Clobber(); _machine?.Reduce(); break;
                    case (byte)'b': Clobber(); _machine?.Consume(1); break; // BUILD
                    case (byte)'o': Clobber(); _machine?.CollapseMark(); break; // OBJ
                    case 0x81: Clobber(); _machine?.ReplaceWithOpaque(2); break; // NEWOBJ
                    case 0x92: Clobber(); _machine?.ReplaceWithOpaque(3); break; // NEWOBJ_EX
                    case (byte)'a': Clobber(); _machine?.Consume(1); break; // APPEND
                    case (byte)'e': Clobber(); _machine?.ConsumeToMark(); break; // APPENDS
                    case (byte)'s': Clobber(); _machine?.Consume(2); break; // SETITEM
                    case (byte)'u': Clobber(); _machine?.ConsumeToMark(); break; // SETITEMS
                    case 0x90: Clobber(); _machine?.ConsumeToMark(); break; // ADDITEMS
                    case (byte)'d': Clobber(); _machine?.CollapseMark(); break; // DICT
                    case (byte)'l': Clobber(); _machine?.CollapseMark(); break; // LIST
                    case 0x91: Clobber(); _machine?.CollapseMark(); break; // FROZENSET
                    case (byte)'t': Clobber(); _machine?.Tuple(null); break; // TUPLE
                    case 0x85: Clobber(); _machine?.Tuple(1); break; // TUPLE1
                    case 0x86: Clobber(); _machine?.Tuple(2); break; // TUPLE2
                    case 0x87: Clobber(); _machine?.Tuple(3); break; // TUPLE3
                    default:
                        throw new MalformedFileException($"unknown pickle opcode 0x{op:X2}", at);
                }
                first = false;
            }
        }

        private void Push(StackValue value)
        {
            _second = _top;
            _top = value;
        }

        /// <summary>A value that is neither a string nor anything the stack machine models.</summary>
        private void PushOther(string description)
        {
            Push(StackValue.Other(description));
            _machine?.Push(PickleValue.Opaque);
        }

        private void PushInteger(long value, string opcode)
        {
            Push(StackValue.Other($"<non-string {opcode} {value}>"));
            _machine?.PushInt(value);
        }

        private void Clobber()
        {
            _top = Unknown;
            _second = Unknown;
        }

        private void Memoize(long index, long at)
        {
            if (index < 0) throw new MalformedFileException("a negative memo index", at);
            if (_memo.Count < MaxMemoEntries || _memo.ContainsKey(index)) _memo[index] = _top;
            _machine?.Put(index);
        }

        private void Recall(long index)
        {
            Push(_memo.TryGetValue(index, out var value) ? value : StackValue.Other($"<memo[{index}] never stored>"));
            _machine?.Get(index);
        }

        private void Extension(long code, string opcode, long at)
        {
            // copyreg's extension registry maps the code to a global chosen by whoever loads the file: never resolvable here.
            globals.Add("<copyreg extension>", code.ToString(CultureInfo.InvariantCulture), opcode, resolved: false, entry, at);
            PushOther($"<non-string {opcode} {code}>");
        }

        private (string Module, string Name) ReadGlobalLines() => (ReadNameLine(), ReadNameLine());

        private string ReadNameLine()
        {
            long at = reader.Position;
            byte[] line = reader.ReadLine(MaxKeptString, out bool clipped);
            string text = Decode(line, StrictUtf8, at);
            // A clipped name cannot be on the allowlist, so marking it is enough.
            return clipped ? text + "..." : text;
        }

        private void PushLine(string opcode)
        {
            reader.ReadLine(0, out _);
            PushOther($"<non-string {opcode}>");
        }

        // INT, LONG and FLOAT take a decimal line; checking it keeps ordinary text files from passing as protocol-0 pickles.
        private void PushNumberLine(string opcode, long at)
        {
            byte[] line = reader.ReadLine(4096, out bool clipped);
            string text = Encoding.Latin1.GetString(line);
            if (opcode == "LONG" && text.EndsWith('L')) text = text[..^1];
            bool valid = !clipped && (opcode == "FLOAT"
                ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || text is "nan" or "inf" or "-inf"
                : text.Length > 0 && text.TrimStart('-', '+').Length > 0 && text.TrimStart('-', '+').All(char.IsAsciiDigit));
            if (!valid) throw new MalformedFileException($"{opcode} has an argument that is not a number", at);
            if (opcode != "FLOAT" && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                PushInteger(value, opcode);
            else if (opcode != "FLOAT" && text.Length <= 80
                && System.Numerics.BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var big))
            {
                Push(StackValue.Other($"<non-string {opcode} {text}>"));
                _machine?.Push(new BigIntegerValue(big));
            }
            else
                PushOther($"<non-string {opcode} {text}>");
        }

        private long ReadDecimalLine(string opcode)
        {
            long at = reader.Position;
            byte[] line = reader.ReadLine(32, out bool clipped);
            if (clipped || !long.TryParse(Encoding.ASCII.GetString(line), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
                throw new MalformedFileException($"{opcode} has an argument that is not a number", at);
            return value;
        }

        private void SkipCounted(long length, string opcode)
        {
            if (length < 0) throw new MalformedFileException($"{opcode} has a negative length", reader.Position);
            reader.Skip(length, opcode);
            PushOther($"<non-string {opcode}>");
        }

        /// <summary>
        /// LONG1 and LONG4: little-endian two's complement; up to 8 bytes is a long, up to 32 a big integer (torch's
        /// legacy magic number takes 10), anything longer is skipped.
        /// </summary>
        private void PushLong(long length, string opcode)
        {
            if (length is < 0 or > 32)
            {
                SkipCounted(length, opcode);
                return;
            }
            reader.CheckLength(length, 32, opcode);
            var bytes = reader.Take((int)length);
            if (length > 8)
            {
                var big = new System.Numerics.BigInteger(bytes, isUnsigned: false, isBigEndian: false);
                Push(StackValue.Other($"<non-string {opcode} {big}>"));
                _machine?.Push(new BigIntegerValue(big));
                return;
            }
            long value = 0;
            for (int i = bytes.Length - 1; i >= 0; i--) value = (value << 8) | bytes[i];
            // Sign-extend from the highest byte written.
            if (bytes.Length is > 0 and < 8 && (bytes[^1] & 0x80) != 0) value -= 1L << (8 * bytes.Length);
            PushInteger(value, opcode);
        }

        private void PushString(string text)
        {
            Push(StackValue.String(text));
            _machine?.PushText(text);
        }

        private static long ToLength(ulong length, string opcode) =>
            length > long.MaxValue ? throw new MalformedFileException($"{opcode} has length {length}") : (long)length;

        private void PushCountedString(long length, string opcode, Encoding encoding)
        {
            long at = reader.Position;
            if (length < 0) throw new MalformedFileException($"{opcode} has a negative length", at);
            reader.CheckLength(length, long.MaxValue, opcode);
            if (length > MaxKeptString)
            {
                reader.Skip(length, opcode);
                PushOther($"<{opcode} of {length} bytes>");
                return;
            }
            PushString(Decode(reader.ReadBytes(length, MaxKeptString, opcode), encoding, at));
        }

        private void PushQuotedString()
        {
            long at = reader.Position;
            byte[] line = reader.ReadLine(MaxKeptString + 2, out bool clipped);
            if (clipped)
            {
                PushOther("<long STRING>");
                return;
            }
            if (line.Length < 2 || line[0] != line[^1] || (line[0] != '\'' && line[0] != '"'))
                throw new MalformedFileException("STRING argument is not quoted", at);
            var body = line.AsSpan(1, line.Length - 2);
            // Escapes would need Python's escape_decode; a name spelled with escapes is reported as unresolvable instead.
            if (body.Contains((byte)'\\')) PushOther("<escaped STRING>");
            else PushString(Encoding.Latin1.GetString(body));
        }

        private void PushRawUnicodeLine()
        {
            byte[] line = reader.ReadLine(MaxKeptString, out bool clipped);
            // raw-unicode-escape: bytes are Latin-1 except \uXXXX and \UXXXXXXXX escapes, which are left unresolved.
            bool escaped = line.AsSpan().IndexOf("\\u"u8) >= 0 || line.AsSpan().IndexOf("\\U"u8) >= 0;
            if (clipped) PushOther("<long UNICODE>");
            else if (escaped) PushOther("<escaped UNICODE>");
            else PushString(Encoding.Latin1.GetString(line));
        }

        private static string Decode(byte[] bytes, Encoding encoding, long at)
        {
            try
            {
                return encoding.GetString(bytes);
            }
            catch (DecoderFallbackException ex)
            {
                throw new MalformedFileException("a string is not valid UTF-8", at, ex);
            }
        }
    }
}
