using System.Buffers.Binary;
using System.Text;

namespace Bhyve.Aot.Boot.Acpi;

/// <summary>
/// A tiny encoder for the ACPI Machine Language subset a DSDT of static devices needs (ACPI 6.x chapter 20):
/// Scope, Device, Name, Package, Buffer, integers, strings, EISA IDs, and package lengths. Objects with a
/// body are built by nesting: the body is encoded first, then wrapped with its PkgLength.
/// </summary>
public sealed class AmlWriter
{
    private const byte ZeroOp = 0x00, OneOp = 0x01, NameOp = 0x08, BytePrefix = 0x0A, WordPrefix = 0x0B, DWordPrefix = 0x0C,
        StringPrefix = 0x0D, QWordPrefix = 0x0E, ScopeOp = 0x10, BufferOp = 0x11, PackageOp = 0x12, ExtOpPrefix = 0x5B,
        DeviceOp = 0x82, RootChar = 0x5C, MethodOp = 0x14, OpRegionOp = 0x80, FieldOp = 0x81, IfOp = 0xA0, AndOp = 0x7B,
        NotifyOp = 0x86, NullName = 0x00;

    private readonly List<byte> _bytes = [];

    public byte[] ToArray() => _bytes.ToArray();
    public int Length => _bytes.Count;

    /// <summary>Scope(path) { body }.</summary>
    public AmlWriter Scope(string path, Action<AmlWriter> body) => Wrapped([ScopeOp], path, body);

    /// <summary>Device(name) { body }.</summary>
    public AmlWriter Device(string name, Action<AmlWriter> body) => Wrapped([ExtOpPrefix, DeviceOp], name, body);

    /// <summary>Name(name, integer).</summary>
    public AmlWriter Name(string name, ulong value)
    {
        _bytes.Add(NameOp);
        NameString(name);
        Integer(value);
        return this;
    }

    /// <summary>Name(name, "text").</summary>
    public AmlWriter Name(string name, string text)
    {
        _bytes.Add(NameOp);
        NameString(name);
        _bytes.Add(StringPrefix);
        foreach (char c in text)
        {
            if (c is < (char)1 or > (char)0x7F) throw new ArgumentException("AML strings are 7-bit ASCII without NUL", nameof(text));
            _bytes.Add((byte)c);
        }
        _bytes.Add(0);
        return this;
    }

    /// <summary>Name(name, Package() { integers... }).</summary>
    public AmlWriter NamePackage(string name, params ulong[] elements)
    {
        if (elements.Length > 255) throw new ArgumentException("a Package has at most 255 elements");
        _bytes.Add(NameOp);
        NameString(name);
        var body = new AmlWriter();
        body._bytes.Add((byte)elements.Length);
        foreach (ulong e in elements) body.Integer(e);
        _bytes.Add(PackageOp);
        PkgLength(body.Length);
        _bytes.AddRange(body._bytes);
        return this;
    }

    /// <summary>Name(name, Buffer() { bytes }) — a ResourceTemplate is a buffer of resource descriptors.</summary>
    public AmlWriter NameBuffer(string name, ReadOnlySpan<byte> bytes)
    {
        _bytes.Add(NameOp);
        NameString(name);
        var body = new AmlWriter();
        body.Integer((ulong)bytes.Length);
        body._bytes.AddRange(bytes.ToArray());
        _bytes.Add(BufferOp);
        PkgLength(body.Length);
        _bytes.AddRange(body._bytes);
        return this;
    }

    /// <summary>OperationRegion(name, SystemIO, port, length).</summary>
    public AmlWriter SystemIoRegion(string name, ushort port, byte length)
    {
        _bytes.Add(ExtOpPrefix);
        _bytes.Add(OpRegionOp);
        NameString(name);
        _bytes.Add(0x01); // RegionSpace: SystemIO
        Integer(port);
        Integer(length);
        return this;
    }

    /// <summary>Field(region, ByteAcc, NoLock, Preserve) { name, 8 }: one byte-wide field at the region's start.</summary>
    public AmlWriter ByteField(string region, string name)
    {
        var body = new AmlWriter();
        body.NameString(region);
        body._bytes.Add(0x01); // FieldFlags: ByteAcc, NoLock, Preserve
        body.NameSegment(name);
        body._bytes.Add(8);    // the field's width in bits (a PkgLength-style number, not counting itself)
        _bytes.Add(ExtOpPrefix);
        _bytes.Add(FieldOp);
        PkgLength(body.Length);
        _bytes.AddRange(body._bytes);
        return this;
    }

    /// <summary>Method(name, args, Serialized) { body }.</summary>
    public AmlWriter SerializedMethod(string name, int args, Action<AmlWriter> body)
    {
        if (args is < 0 or > 7) throw new ArgumentOutOfRangeException(nameof(args), "a method takes 0..7 arguments");
        var inner = new AmlWriter();
        inner.NameString(name);
        inner._bytes.Add((byte)(args | 0x08));
        body(inner);
        _bytes.Add(MethodOp);
        PkgLength(inner.Length);
        _bytes.AddRange(inner._bytes);
        return this;
    }

    /// <summary>If (And(field, mask)) { body }: the field is read once.</summary>
    public AmlWriter IfAnyBit(string field, ulong mask, Action<AmlWriter> body)
    {
        var inner = new AmlWriter();
        inner._bytes.Add(AndOp);
        inner.NameString(field);
        inner.Integer(mask);
        inner._bytes.Add(NullName); // no target
        body(inner);
        _bytes.Add(IfOp);
        PkgLength(inner.Length);
        _bytes.AddRange(inner._bytes);
        return this;
    }

    /// <summary>Notify(device, value).</summary>
    public AmlWriter Notify(string device, ulong value)
    {
        _bytes.Add(NotifyOp);
        NameString(device);
        Integer(value);
        return this;
    }

    /// <summary>The shortest integer encoding: ZeroOp, OneOp, or a byte/word/dword/qword constant.</summary>
    public AmlWriter Integer(ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        if (value == 0) _bytes.Add(ZeroOp);
        else if (value == 1) _bytes.Add(OneOp);
        else if (value <= byte.MaxValue) { _bytes.Add(BytePrefix); _bytes.Add(b[0]); }
        else if (value <= ushort.MaxValue) { _bytes.Add(WordPrefix); _bytes.AddRange(b[..2].ToArray()); }
        else if (value <= uint.MaxValue) { _bytes.Add(DWordPrefix); _bytes.AddRange(b[..4].ToArray()); }
        else { _bytes.Add(QWordPrefix); _bytes.AddRange(b.ToArray()); }
        return this;
    }

    /// <summary>A compressed EISA ID ("PNP0A03") as the 32-bit integer ASL's EisaId() makes of it.</summary>
    public static uint EisaId(string id)
    {
        if (id.Length != 7 || !char.IsAsciiLetterUpper(id[0]) || !char.IsAsciiLetterUpper(id[1]) || !char.IsAsciiLetterUpper(id[2])
            || !id.AsSpan(3).ToString().All(char.IsAsciiHexDigitUpper))
            throw new ArgumentException($"'{id}' is not an EISA ID (three capitals and four hex digits)", nameof(id));
        uint c1 = (uint)(id[0] - 0x40), c2 = (uint)(id[1] - 0x40), c3 = (uint)(id[2] - 0x40);
        uint product = Convert.ToUInt32(id[3..], 16);
        uint b0 = (c1 << 2) | (c2 >> 3), b1 = ((c2 & 7) << 5) | c3, b2 = product >> 8, b3 = product & 0xFF;
        return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
    }

    /// <summary>PkgLength for a body of bodyLength bytes; the encoded length counts its own bytes too.</summary>
    public static byte[] EncodePkgLength(int bodyLength)
    {
        if (bodyLength + 1 < 0x40) return [(byte)(bodyLength + 1)];
        for (int extra = 1; extra <= 3; extra++)
        {
            int total = bodyLength + 1 + extra;
            if (total < 1 << (4 + 8 * extra))
            {
                var r = new byte[extra + 1];
                r[0] = (byte)((extra << 6) | (total & 0x0F));
                for (int i = 1; i <= extra; i++) r[i] = (byte)(total >> (4 + 8 * (i - 1)));
                return r;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(bodyLength), "AML package longer than 256 MiB");
    }

    private AmlWriter Wrapped(byte[] opcode, string name, Action<AmlWriter> body)
    {
        var inner = new AmlWriter();
        inner.NameString(name);
        body(inner);
        _bytes.AddRange(opcode);
        PkgLength(inner.Length);
        _bytes.AddRange(inner._bytes);
        return this;
    }

    private void PkgLength(int bodyLength) => _bytes.AddRange(EncodePkgLength(bodyLength));

    /// <summary>One bare 4-character name segment (no prefix), as a field list's NamedField wants.</summary>
    private void NameSegment(string segment)
    {
        if (segment.Length != 4 || segment.Contains('.') || segment.StartsWith('\\'))
            throw new ArgumentException($"'{segment}' is not a 4-character name segment", nameof(segment));
        NameString(segment);
    }

    /// <summary>A name: an optional leading '\' and dot-separated segments of up to 4 characters, padded with '_'.</summary>
    private void NameString(string path)
    {
        string rest = path;
        if (rest.StartsWith('\\')) { _bytes.Add(RootChar); rest = rest[1..]; }
        var segments = rest.Split('.');
        if (segments.Length == 2) _bytes.Add(0x2E); // DualNamePrefix
        else if (segments.Length > 2) { _bytes.Add(0x2F); _bytes.Add((byte)segments.Length); } // MultiNamePrefix
        foreach (var seg in segments)
        {
            if (seg.Length is 0 or > 4) throw new ArgumentException($"AML name segment '{seg}' must have 1 to 4 characters", nameof(path));
            for (int i = 0; i < 4; i++)
            {
                char c = i < seg.Length ? seg[i] : '_';
                bool ok = char.IsAsciiLetterUpper(c) || c == '_' || (i > 0 && char.IsAsciiDigit(c));
                if (!ok) throw new ArgumentException($"'{c}' is not allowed in AML name segment '{seg}'", nameof(path));
                _bytes.Add((byte)c);
            }
        }
    }
}
