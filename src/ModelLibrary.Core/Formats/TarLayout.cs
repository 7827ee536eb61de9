using System.Text;

namespace ModelLibrary.Formats;

/// <summary>
/// The members of a tar archive as Python's <c>tarfile</c> (what torch.load's legacy loader opens with mode "r:") lists
/// them, read from the headers the way CPython's tarfile.py does: numbers through its <c>nti</c> (octal text that
/// <c>int(s, 8)</c> takes, with a <c>0o</c> prefix, underscores, surrounding whitespace and a sign, or GNU base-256),
/// both checksums, the ustar prefix whatever the magic, data skipped only for regular and unknown types, and the listing
/// ending quietly at the first bad header after the first. Where tarfile would raise a TarError (torch then reads the
/// whole file as a raw pickle instead), or where tar readers differ (pax records, sparse members), the layout says so in
/// <see cref="Ambiguity"/>, and the scan refuses the file rather than guess.
/// </summary>
internal sealed class TarLayout
{
    internal const int BlockSize = 512;

    // tarfile's type flags: REGULAR_TYPES have data; SUPPORTED_TYPES minus those have none; anything else is read as a regular file.
    private const string RegularTypes = "0\0" + "7S";
    private const string SupportedTypes = "0\0" + "127S" + "3456" + "LK";

    public sealed record Member(string Name, char Type, long Size, long DataOffset, string LinkName)
    {
        /// <summary>A plain file: what torch.load expects its members to be, and all it may be for the scan to follow it.</summary>
        public bool IsPlainFile => Type is '0' or '\0';
    }

    private TarLayout(List<Member> members, string? ambiguity, bool fallsBackToRaw = false)
    {
        Members = members;
        Ambiguity = ambiguity;
        FallsBackToRaw = fallsBackToRaw;
    }

    /// <summary>True when listing the members raises tarfile's ReadError (torch.load then reads the file as a raw pickle).</summary>
    public bool FallsBackToRaw { get; }

    public IReadOnlyList<Member> Members { get; }
    /// <summary>Why readers of this archive could disagree about what it holds (the scan then refuses it), or null.</summary>
    public string? Ambiguity { get; }

    /// <summary>
    /// True when tarfile.open would accept the first block as a member header (all its numeric fields parse, and the
    /// checksum, signed or unsigned, matches). False means torch.load reads the file as a raw pickle.
    /// </summary>
    public static bool IsHeader(ReadOnlySpan<byte> block) => block.Length >= BlockSize && !IsAllZero(block[..BlockSize]) && TryParse(block[..BlockSize], out _);

    /// <summary>Lists the archive's members, reading only headers; <paramref name="stream"/> is positioned at the archive's start.</summary>
    public static TarLayout Read(Stream stream, CancellationToken cancellationToken)
    {
        long origin = stream.Position;
        long fileLength = stream.Length - origin;
        var members = new List<Member>();
        var block = new byte[BlockSize];
        long offset = 0;
        string? pendingName = null, pendingLink = null;
        long? pendingSize = null;
        bool pendingHeader = false;
        bool first = true;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // tarfile's next(): "unexpected end of data".
            if (offset > fileLength) return new TarLayout(members, null, fallsBackToRaw: true);
            stream.Position = origin + offset;
            int read = stream.ReadAtLeast(block, BlockSize, throwOnEndOfStream: false);
            Header h = default;
            bool valid = read == BlockSize && !IsAllZero(block) && TryParse(block, out h);
            if (!valid)
            {
                // tarfile ends the listing here (end of archive, or a bad header after the first); a header an extended
                // header announced must follow, or tarfile raises SubsequentHeaderError.
                // SubsequentHeaderError, a ReadError.
                if (pendingHeader) return new TarLayout(members, null, fallsBackToRaw: true);
                if (first) throw new MalformedFileException("the tar archive's first header is not valid");
                return new TarLayout(members, null);
            }
            first = false;
            long dataOffset = offset + BlockSize;
            if (h.Size < 0) throw new MalformedFileException($"tar member '{h.Name}' has a negative size ({h.Size})");
            long blocks = (h.Size + BlockSize - 1) / BlockSize * BlockSize;
            switch (h.Type)
            {
                case 'L' or 'K':
                {
                    if (h.Size > 64 * 1024) return new TarLayout(members, $"a GNU long-name header of {h.Size} bytes");
                    if (dataOffset + h.Size > fileLength) return new TarLayout(members, null, fallsBackToRaw: true);
                    var data = new byte[h.Size];
                    stream.Position = origin + dataOffset;
                    stream.ReadExactly(data);
                    string text = Nts(data);
                    if (h.Type == 'L') pendingName = text; else pendingLink = text;
                    pendingHeader = true;
                    offset = dataOffset + blocks;
                    continue;
                }
                case 'x' or 'X':
                {
                    if (h.Size > 1024 * 1024) return new TarLayout(members, $"a pax header of {h.Size} bytes");
                    if (dataOffset + h.Size > fileLength) return new TarLayout(members, null, fallsBackToRaw: true);
                    var data = new byte[h.Size];
                    stream.Position = origin + dataOffset;
                    stream.ReadExactly(data);
                    if (ReadPax(data, ref pendingName, ref pendingLink, ref pendingSize) is string problem) return new TarLayout(members, problem);
                    pendingHeader = true;
                    offset = dataOffset + blocks;
                    continue;
                }
                case 'g':
                    return new TarLayout(members, "a pax global header, which changes every member after it in ways tar readers apply differently");
                case 'S':
                    return new TarLayout(members, $"a GNU sparse member ('{h.Name}'), whose data tar readers reassemble in ways the scan does not follow");
            }

            string name = pendingName ?? h.Name;
            long size = pendingSize ?? h.Size;
            char type = h.Type;
            // tarfile: a pax or long name replaces the header's after its own checks; a directory's name loses its slashes.
            if (type == '5') name = name.TrimEnd('/');
            string link = pendingLink ?? h.LinkName;
            pendingName = pendingLink = null;
            pendingSize = null;
            pendingHeader = false;
            if (size < 0) throw new MalformedFileException($"tar member '{name}' has a negative size ({size})");
            if (name.Contains("GNU.sparse", StringComparison.Ordinal) || name.Contains("/GNUSparseFile.", StringComparison.Ordinal))
                return new TarLayout(members, $"a pax sparse member ('{name}'), whose data tar readers reassemble differently");
            members.Add(new Member(name, type, size, dataOffset, link));
            offset = RegularTypes.Contains(type) || !SupportedTypes.Contains(type)
                ? dataOffset + (size + BlockSize - 1) / BlockSize * BlockSize
                : dataOffset;
        }
    }

    private readonly record struct Header(string Name, char Type, long Size, string LinkName);

    /// <summary>tarfile's TarInfo.frombuf on one 512-byte block: false where it raises InvalidHeaderError.</summary>
    private static bool TryParse(ReadOnlySpan<byte> block, out Header header)
    {
        header = default;
        if (!TryNti(block.Slice(148, 8), out long checksum)) return false;
        long unsigned = 256, signed = 256;
        for (int i = 0; i < BlockSize; i++)
        {
            if (i is >= 148 and < 156) continue;
            unsigned += block[i];
            signed += (sbyte)block[i];
        }
        if (checksum != unsigned && checksum != signed) return false;
        // mode, uid, gid, size, mtime, devmajor, devminor all go through nti, and a bad one fails the header.
        if (!TryNti(block.Slice(100, 8), out _) || !TryNti(block.Slice(108, 8), out _) || !TryNti(block.Slice(116, 8), out _)
            || !TryNti(block.Slice(124, 12), out long size) || !TryNti(block.Slice(136, 12), out _)
            || !TryNti(block.Slice(329, 8), out _) || !TryNti(block.Slice(337, 8), out _))
            return false;
        char type = (char)block[156];
        if (type == 'S')
        {
            // The old GNU sparse header's origsize is parsed too.
            if (!TryNti(block.Slice(483, 12), out _)) return false;
        }
        string name = Nts(block[..100]);
        string prefix = Nts(block.Slice(345, 155));
        if (type == '\0' && name.EndsWith('/')) type = '5';
        if (type == '5') name = name.TrimEnd('/');
        if (prefix.Length > 0 && type is not ('L' or 'K' or 'S')) name = prefix + "/" + name;
        header = new Header(name, type, size, Nts(block.Slice(157, 100)));
        return true;
    }

    /// <summary>
    /// tarfile's pax record parser, strictly: every record "len key=value\n" with len its exact length, up to the data's
    /// end or NUL padding. Anything looser is read differently by tarfile versions and other tools, so it is an ambiguity.
    /// </summary>
    private static string? ReadPax(byte[] data, ref string? name, ref string? link, ref long? size)
    {
        int pos = 0;
        while (pos < data.Length && data[pos] != 0)
        {
            int space = Array.IndexOf(data, (byte)' ', pos);
            if (space <= pos || space - pos > 20) return "a pax header whose records are malformed";
            var digits = data.AsSpan(pos, space - pos);
            if (digits.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0 || !long.TryParse(digits, out long length) || length <= 0
                || length > data.Length - pos || data[pos + length - 1] != (byte)'\n')
                return "a pax header whose records are malformed";
            var record = data.AsSpan(space + 1, (int)(pos + length - 1 - (space + 1)));
            int equals = record.IndexOf((byte)'=');
            if (equals <= 0) return "a pax header whose records are malformed";
            string key, value;
            try
            {
                key = StrictUtf8.GetString(record[..equals]);
                value = StrictUtf8.GetString(record[(equals + 1)..]);
            }
            catch (DecoderFallbackException)
            {
                return "a pax header that is not UTF-8";
            }
            switch (key)
            {
                case "path": name = value; break;
                case "linkpath": link = value; break;
                case "size":
                    if (value.Length == 0 || value.Any(c => !char.IsAsciiDigit(c)) || !long.TryParse(value, out long s))
                        return "a pax size that is not a plain number";
                    size = s;
                    break;
                case "hdrcharset":
                    return "a pax header that changes the names' character set";
                default:
                    if (key.StartsWith("GNU.sparse", StringComparison.Ordinal)) return "a pax sparse member, whose data tar readers reassemble differently";
                    break;
            }
            pos += (int)length;
        }
        return null;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    /// <summary>tarfile's nts: up to the first NUL; names are read with surrogateescape, so any byte is kept.</summary>
    private static string Nts(ReadOnlySpan<byte> field)
    {
        int nul = field.IndexOf((byte)0);
        var bytes = nul >= 0 ? field[..nul] : field;
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }

    /// <summary>
    /// tarfile's nti: 0o200/0o377 lead bytes mean big-endian base-256; anything else is the text before the first NUL,
    /// ASCII, stripped of Python whitespace, read by <c>int(text or "0", 8)</c>.
    /// </summary>
    internal static bool TryNti(ReadOnlySpan<byte> field, out long value)
    {
        value = 0;
        if (field[0] is 0x80 or 0xFF)
        {
            System.Numerics.BigInteger n = 0;
            for (int i = 1; i < field.Length; i++) n = (n << 8) + field[i];
            if (field[0] == 0xFF) n = -(System.Numerics.BigInteger.Pow(256, field.Length - 1) - n);
            if (n > long.MaxValue || n < long.MinValue) return false;
            value = (long)n;
            return true;
        }
        int nul = field.IndexOf((byte)0);
        var text = nul >= 0 ? field[..nul] : field;
        foreach (byte b in text) if (b > 0x7F) return false;
        string s = Encoding.ASCII.GetString(text).Trim(PythonWhitespace);
        if (s.Length == 0) return true;
        return TryPythonOctal(s, out value);
    }

    // str.strip() without arguments: the ASCII characters Python counts as whitespace.
    private static readonly char[] PythonWhitespace = { ' ', '\t', '\n', '\r', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\x1f' };

    /// <summary><c>int(s, 8)</c>: optional sign, optional 0o prefix, octal digits with single underscores between them.</summary>
    private static bool TryPythonOctal(string s, out long value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (s[i] is '+' or '-') { negative = s[i] == '-'; i++; }
        bool prefixed = false;
        if (i + 1 < s.Length && s[i] == '0' && s[i + 1] is 'o' or 'O') { i += 2; prefixed = true; }
        if (i >= s.Length) return false;
        bool lastUnderscore = false, anyDigit = false;
        if (s[i] == '_' && !prefixed) return false;
        for (; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '_')
            {
                if (lastUnderscore) return false;
                lastUnderscore = true;
                continue;
            }
            if (c is < '0' or > '7') return false;
            if (value > (long.MaxValue >> 3)) return false;
            value = value * 8 + (c - '0');
            lastUnderscore = false;
            anyDigit = true;
        }
        if (lastUnderscore || !anyDigit) return false;
        if (negative) value = -value;
        return true;
    }

    private static bool IsAllZero(ReadOnlySpan<byte> block) => block.IndexOfAnyExcept((byte)0) < 0;
}
