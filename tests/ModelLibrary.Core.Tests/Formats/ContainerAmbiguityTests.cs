using System.Text;
using ModelLibrary.Formats;
using static ModelLibrary.Tests.Formats.PickleBuilder;

namespace ModelLibrary.Tests.Formats;

/// <summary>
/// Files built so that the scanner and torch.load's readers could see different bytes (issue 17). Tar and zip files
/// are written by Python's tarfile and struct, and Python's tarfile, zipfile and pickletools then say, as reference
/// readers, which bytes a loader would unpickle; nothing is ever unpickled. Each file must be refused (unsafe) or, where
/// the readers agree, scanned exactly as the reference reads it.
/// </summary>
public class ContainerAmbiguityTests
{
    private static readonly byte[] Evil = P("cos\nsystem\n(S'id'\ntR.");
    private static readonly byte[] Benign = P("\u0080\u0002}q\u0000.");

    // torch.save's legacy (non-tar, non-zip) layout: MAGIC_NUMBER, PROTOCOL_VERSION 1001 and sys_info, each pickled.
    private static readonly byte[] LegacyMagic = P("\u0080\u0002\u008a\u000a\u006c\u00fc\u009c\u0046\u00f9\u0020\u006a\u00a8\u0050\u0019.");
    private static readonly byte[] LegacyHead = P(LegacyMagic, "\u0080\u0002M\u00e9\u0003.", "\u0080\u0002}q\u0000.");

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    // ---- torch's legacy raw layout ------------------------------------------------------------------------------

    public static TheoryData<string, string> LenientOpcodes => new()
    {
        { "an INT with an underscore", "I1_001\n0" },
        { "a FLOAT of +inf", "F+inf\n0" },
        { "a lone surrogate in BINUNICODE", "X\u0003\u0000\u0000\u0000\u00ed\u00a0\u00800" },
        { "a PUT index with a leading space", "Np 1\n0" },
        { "a PUT index of 41 digits", "Np" + new string('0', 40) + "1\n0" },
    };

    [Theory]
    [MemberData(nameof(LenientOpcodes))]
    public void APickleOfTheLegacyLayoutThatCPythonReadsButTheWalkCannotIsUnsafe(string why, string opening)
    {
        var fourth = P(opening, Evil);
        var bytes = P(LegacyHead, fourth, "\u0080\u0002]q\u0000.");
        // pickletools reads its opcodes as the unpickler does: it sees the import the scan must not miss.
        string ops = Python.Run("import sys,pickletools;sys.stdout.reconfigure(errors='backslashreplace');print(' '.join(f'{o.name}:{a}' for o,a,p in pickletools.genops(bytes.fromhex(sys.argv[1]))))", Hex(fourth));
        Assert.Contains("GLOBAL:os system", ops);

        var scan = Scan(bytes);
        Assert.False(scan.IsSafe, why);
        Assert.Contains("pickle 4 of its legacy layout", Assert.Single(scan.Ambiguities));
        Assert.Contains("cannot be sure", Assert.Throws<ModelSecurityException>(scan.ThrowIfUnsafe).Message);
    }

    [Fact]
    public void RawStorageBytesAfterTheFifthPickleAreNeverReadAsOpcodes()
    {
        // One int64 storage of 99 elements: its count is the byte 'c' (GLOBAL), and its values (10) are newlines, so
        // read as opcodes the bytes import a global named by zero bytes.
        var stateDict = StateDict(new Tensor[] { new("w", "LongStorage", "0", [99]) }, legacy: true);
        var storage = P(U64(99), Enumerable.Repeat(10UL, 99).SelectMany(U64).ToArray());
        var bytes = P(LegacyHead, stateDict, "\u0080\u0002]q\u0000X\u0001\u0000\u0000\u00000a.", storage);

        var scan = Scan(bytes);
        Assert.True(scan.IsSafe, string.Join(", ", scan.UnsafeGlobalNames.Concat(scan.Ambiguities)));
        var stream = Assert.Single(scan.Streams);
        Assert.Equal(5, stream.PickleCount);
        Assert.Equal(bytes.Length - storage.Length, stream.StoppedAt);
        Assert.Equal(99, scan.Tensors.ParameterCount);
    }

    // ---- tar (torch < 1.6), written by Python's tarfile ---------------------------------------------------------

    /// <summary>
    /// Writes a tar with Python's tarfile: each member (name, type flag, data, link target, checksum spelling). Data is
    /// written after every header whose type tarfile skips data for (regular, contiguous, unknown, sparse).
    /// </summary>
    private static byte[] PythonTar(params (string Name, char Type, byte[] Data, string Link, string Checksum)[] members)
    {
        using var dir = new TempDirectory();
        var spec = new StringBuilder();
        foreach (var (name, type, data, link, checksum) in members)
        {
            var file = dir.Write(Guid.NewGuid().ToString("N"), data);
            spec.AppendLine(string.Join('\t', Hex(Encoding.UTF8.GetBytes(name)), type == '\0' ? "00" : ((int)type).ToString("x2"), file, Hex(Encoding.UTF8.GetBytes(link)), checksum));
        }
        var specFile = dir.Write("spec.txt", Encoding.UTF8.GetBytes(spec.ToString()));
        var output = dir.File("out.tar");
        Python.Run("""
            import sys, tarfile
            out = bytearray()
            for line in open(sys.argv[1]).read().splitlines():
                name, typ, path, link, form = line.split('\t')
                data = open(path, 'rb').read()
                typ = bytes.fromhex(typ)
                info = tarfile.TarInfo(bytes.fromhex(name).decode())
                info.type = typ
                info.linkname = bytes.fromhex(link).decode()
                has_data = typ in tarfile.REGULAR_TYPES or typ not in tarfile.SUPPORTED_TYPES
                info.size = len(data) if has_data else 0
                header = bytearray(info.tobuf(tarfile.USTAR_FORMAT, 'utf-8', 'surrogateescape'))
                if typ == tarfile.GNUTYPE_SPARSE:
                    header[386:398] = tarfile.itn(0, 12, tarfile.GNU_FORMAT)
                    header[398:410] = tarfile.itn(len(data), 12, tarfile.GNU_FORMAT)
                    header[483:495] = tarfile.itn(len(data), 12, tarfile.GNU_FORMAT)
                    form = form or 'plain'
                if form:
                    header[148:156] = b' ' * 8
                    chk = sum(header)
                    field = {'plain': b'%06o\0 ' % chk, 'base256': bytes([0x80]) + chk.to_bytes(7, 'big'),
                             '0o': (b'0o%o' % chk).ljust(8, b'\0'), 'tab': (b'\t%o' % chk).ljust(8, b'\0')}[form]
                    header[148:156] = field
                out += header
                if has_data:
                    out += data + b'\0' * (-len(data) % 512)
            out += b'\0' * 1024
            open(sys.argv[2], 'wb').write(out)
            """, specFile, output);
        return File.ReadAllBytes(output);
    }

    private static (string, char, byte[], string, string) Member(string name, byte[] data, char type = '0', string link = "", string checksum = "") =>
        (name, type, data, link, checksum);

    private static (string, char, byte[], string, string)[] TorchMembers(byte[] pickle) => new[]
    {
        Member("sys_info", LegacySysInfo), Member("pickle", pickle), Member("storages", LegacyStorages()), Member("tensors", LegacyTensors()),
    };

    /// <summary>What Python's tarfile hands torch.load for a member name (extractfile follows links; getmember takes the last).</summary>
    private static string TarfileReads(byte[] tar, string member)
    {
        using var dir = new TempDirectory();
        return Python.Run("import sys,tarfile;t=tarfile.open(sys.argv[1],'r:');print(t.extractfile(sys.argv[2]).read().hex())", dir.Write("t.tar", tar), member);
    }

    [Theory]
    [InlineData("base256")]
    [InlineData("0o")]
    [InlineData("tab")]
    public void ATarWhoseFirstChecksumIsWrittenAnotherWayIsStillATar(string checksum)
    {
        // The first member's name is itself a harmless pickle: read as a raw file, the archive looks safe.
        var tar = PythonTar(new[] { Member("N.", Benign, checksum: checksum) }.Concat(TorchMembers(Evil)).ToArray());
        Assert.Equal(Hex(Evil), TarfileReads(tar, "pickle"));

        Assert.True(PickleScanner.IsTar(tar));
        var scan = Scan(tar);
        Assert.Equal(PickleContainer.LegacyTar, scan.Container);
        Assert.Contains("os.system", scan.UnsafeGlobalNames);
    }

    public static TheoryData<string, (string, char, byte[], string, string)[]> HiddenPickleMembers => new()
    {
        { "a later 'pickle' of type 7 (contiguous)", [Member("pickle", Benign), Member("pickle", Evil, type: '7')] },
        { "a later 'pickle' of an unknown type", [Member("pickle", Benign), Member("pickle", Evil, type: 'Z')] },
        { "a later 'pickle' that is a hard link", [Member("evil", Evil), Member("pickle", Benign), Member("pickle", [], type: '1', link: "evil")] },
        { "a later 'pickle' that is a symbolic link", [Member("evil", Evil), Member("pickle", Benign), Member("pickle", [], type: '2', link: "evil")] },
        { "a later 'pickle' that is a GNU sparse member", [Member("pickle", Benign), Member("pickle", Evil, type: 'S')] },
        { "two plain 'pickle' members", [Member("pickle", Benign), Member("pickle", Evil)] },
    };

    [Theory]
    [MemberData(nameof(HiddenPickleMembers))]
    public void ATarWhosePickleMemberTarfileResolvesElsewhereIsUnsafe(string why, (string, char, byte[], string, string)[] pickles)
    {
        var tar = PythonTar(new[] { Member("sys_info", LegacySysInfo) }.Concat(pickles)
            .Concat(new[] { Member("storages", LegacyStorages()), Member("tensors", LegacyTensors()) }).ToArray());
        // The reference: tarfile hands torch.load the malicious bytes.
        Assert.Equal(Hex(Evil), TarfileReads(tar, "pickle"));

        var scan = Scan(tar);
        Assert.False(scan.IsSafe, why);
        Assert.Contains("tar archive", Assert.Single(scan.Ambiguities));
    }

    [Fact]
    public void ATarThatTarfileCannotListIsScannedAsTheRawPickleTorchFallsBackTo()
    {
        // The first member's name is a pickle; the next member claims more data than the file holds, so tarfile raises
        // ReadError and torch.load reads the file from byte 0 as a raw pickle.
        var tar = PythonTar(Member("cos\nsystem\n(S'id'\ntR.", [1]), Member("storages", new byte[600]))[..2048];
        using (var dir = new TempDirectory())
        {
            Assert.Equal("ReadError", Python.Run("""
                import sys, tarfile
                try:
                    tarfile.open(sys.argv[1], 'r:').getmembers(); print('listed')
                except tarfile.ReadError:
                    print('ReadError')
                """, dir.Write("t.tar", tar)));
        }

        var scan = Scan(tar);
        Assert.Equal(PickleContainer.Raw, scan.Container);
        Assert.Contains("os.system", scan.UnsafeGlobalNames);
    }

    [Fact]
    public void ATarIsScannedAsTarfileReadsIt()
    {
        // Differential: every member torch.load reads is what tarfile hands it, byte for byte (its length here).
        var tensors = LegacyTensors((LegacyTensorArgs(1, 11, "FloatTensor"), [3, 4]));
        var storages = LegacyStorages(null, (LegacyStorageArgs(11, "FloatStorage"), 12, 4));
        var pickle = LegacyObjectPickle(("w", 1));
        var tar = PythonTar(Member("sys_info", LegacySysInfo), Member("pickle", pickle), Member("storages", storages), Member("tensors", tensors));
        var scan = Scan(tar);
        Assert.True(scan.IsSafe);
        foreach (var name in new[] { "pickle", "storages", "tensors" })
            Assert.Equal(TarfileReads(tar, name).Length / 2, scan.Streams.Single(s => s.Entry == name).Length);
        Assert.Equal(12, scan.Tensors.ParameterCount);
    }

    // ---- zip (torch >= 1.6), laid out with struct ---------------------------------------------------------------

    /// <summary>
    /// Python that builds a stored zip from local entries and central directories by hand: L(name, data) appends a
    /// local header and returns its offset, C(name, data, offset, extra) a central record; E(...) the end records.
    /// </summary>
    private const string ZipKit = """
        import sys, struct, zlib
        out = bytearray()
        def L(name, data, local_name=None):
            off = len(out); n = (local_name or name).encode()
            out.extend(struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 0, 0, 0, zlib.crc32(data), len(data), len(data), len(n), 0) + n + data)
            return off
        def C(name, data, off, extra=b'', size=None):
            n = name.encode(); size = len(data) if size is None else size
            return struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 0, 0, 0, zlib.crc32(data), size, size, len(n), len(extra), 0, 0, 0, 0, off) + n + extra
        def E(count, size, offset, comment=b''):
            out.extend(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, count, count, size, offset, len(comment)) + comment)
        benign = bytes.fromhex(sys.argv[1]); evil = bytes.fromhex(sys.argv[2]); path = sys.argv[3]
        name = 'archive/data.pkl'
        """;

    private static byte[] PythonZip(string body)
    {
        using var dir = new TempDirectory();
        var path = dir.File("z.pt");
        Python.Run(ZipKit + "\n" + body + "\nopen(path, 'wb').write(out)\n", Hex(Benign), Hex(Evil), path);
        return File.ReadAllBytes(path);
    }

    /// <summary>What Python's zipfile would hand the unpickler for data.pkl, or the error it raises.</summary>
    private static string ZipfileReads(byte[] zip)
    {
        using var dir = new TempDirectory();
        return Python.Run("""
            import sys, zipfile
            try:
                print(zipfile.ZipFile(sys.argv[1]).read('archive/data.pkl').hex())
            except Exception as e:
                print(type(e).__name__)
            """, dir.Write("z.pt", zip));
    }

    public static TheoryData<string, string, string> AmbiguousZips => new()
    {
        // Python's zipfile, like miniz, takes the zip64 end record whenever its locator is there: the second directory.
        { "a zip64 end record naming another central directory", """
            a = L(name, benign); b = L(name, evil)
            cd1 = len(out); out.extend(C(name, benign, a)); s1 = len(out) - cd1
            cd2 = len(out); out.extend(C(name, evil, b)); s2 = len(out) - cd2
            z = len(out)
            out.extend(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, 1, 1, s2, cd2))
            out.extend(struct.pack('<IIQI', 0x07064b50, 0, z, 1))
            E(1, s1, cd1)
            """, "evil" },
        { "a zip64 extra field where no field is marked", """
            a = L(name, benign); b = L(name, evil)
            cd = len(out); out.extend(C(name, benign, a, extra=struct.pack('<HHQ', 1, 8, b)))
            E(1, len(out) - cd, cd)
            """, "benign" },
        { "a second end record inside the comment", """
            a = L(name, benign); b = L(name, evil)
            cd1 = len(out); out.extend(C(name, benign, a)); s1 = len(out) - cd1
            cd2 = len(out); out.extend(C(name, evil, b)); s2 = len(out) - cd2
            E(1, s1, cd1, comment=struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 1, 1, s2, cd2, 0))
            """, "" },
        { "a local header that names another file", """
            a = L(name, evil, local_name='archive/data.pkx')
            cd = len(out); out.extend(C(name, evil, a))
            E(1, len(out) - cd, cd)
            """, "BadZipFile" },
        { "two entries whose names differ only in case", """
            a = L(name, benign); b = L('archive/DATA.pkl', evil)
            cd = len(out); out.extend(C(name, benign, a)); out.extend(C('archive/DATA.pkl', evil, b))
            E(2, len(out) - cd, cd)
            """, "benign" },
        { "bytes between the central directory and its end record", """
            a = L(name, benign); b = L(name, evil)
            cd = len(out); out.extend(C(name, benign, a)); s = len(out) - cd
            out.extend(C(name, evil, b))
            E(1, s, cd)
            """, "" },
    };

    [Theory]
    [MemberData(nameof(AmbiguousZips))]
    public void AZipThatReadersCouldResolveDifferentlyIsUnsafe(string why, string layout, string pythonReads)
    {
        var zip = PythonZip(layout);
        var reference = ZipfileReads(zip);
        if (pythonReads == "evil") Assert.Equal(Hex(Evil), reference);
        else if (pythonReads == "benign") Assert.Equal(Hex(Benign), reference);
        else if (pythonReads.Length > 0) Assert.Equal(pythonReads, reference);

        var scan = Scan(zip);
        Assert.False(scan.IsSafe, why);
        Assert.Contains("zip archive", Assert.Single(scan.Ambiguities));
    }

    [Fact]
    public void AZipIsScannedAsZipfileReadsIt()
    {
        // Differential: the .pkl entries zipfile lists are the entries scanned, each of the length zipfile reads.
        using var dir = new TempDirectory();
        var path = dir.File("m.pt");
        Python.Run("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], 'w') as z:
                z.writestr('archive/data.pkl', bytes.fromhex(sys.argv[2]))
                z.writestr('archive/extra/other.pkl', bytes.fromhex(sys.argv[2]) * 2)
                z.writestr('archive/data/0', b'\0' * 64)
            """, path, Hex(Benign));
        var listed = Python.Run("""
            import sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            print(';'.join(f'{n}={len(z.read(n))}' for n in z.namelist() if n.endswith('.pkl')))
            """, path);
        var scan = PickleScanner.Scan(path);
        Assert.True(scan.IsSafe);
        Assert.Equal(listed, string.Join(';', scan.Streams.Select(s => $"{s.Entry}={s.Length}")));
    }

    [Fact]
    public void AZip64ArchiveWrittenByZipfileIsRead()
    {
        // zipfile writes zip64 end records when forced; the values agree with the plain ones, so nothing is ambiguous.
        using var dir = new TempDirectory();
        var path = dir.File("m.pt");
        Python.Run("""
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], 'w', allowZip64=True) as z:
                with z.open('archive/data.pkl', 'w', force_zip64=True) as f:
                    f.write(bytes.fromhex(sys.argv[2]))
            """, path, Hex(Benign));
        var scan = PickleScanner.Scan(path);
        Assert.True(scan.IsSafe, string.Join("; ", scan.Ambiguities));
    }
}
