using System.Buffers.Binary;

namespace Bhyve.Aot.Devices.Pci;

/// <summary>
/// MSI-X: the capability in config space, the vector table and the pending-bit array in a BAR. Vectors start
/// masked. Signal (I/O threads) delivers through the IMsiSink when the function is enabled and the vector
/// unmasked, and otherwise records a pending bit that unmasking delivers. INTx is not offered: a function
/// without MSI-X enabled raises nothing (guests we target all use MSI-X).
/// </summary>
public sealed class MsiX
{
    public const byte CapabilityId = 0x11;
    public const int EntrySize = 16;
    public const ushort NoVector = 0xFFFF;
    private const ushort ControlEnable = 0x8000, ControlFunctionMask = 0x4000;
    private const uint VectorMasked = 1;

    private readonly PciConfigSpace _config;
    private readonly IMsiSink _sink;
    private readonly uint[] _table; // 4 dwords per vector: address low, address high, data, vector control
    private readonly ulong[] _pending;
    private readonly Lock _lock = new();
    private volatile bool _enabled, _functionMasked;

    public MsiX(PciConfigSpace config, int vectors, int tableBar, uint tableOffset, int pbaBar, uint pbaOffset, IMsiSink sink)
    {
        if (vectors is < 1 or > 2048) throw new ArgumentOutOfRangeException(nameof(vectors));
        _config = config;
        _sink = sink;
        VectorCount = vectors;
        _table = new uint[vectors * 4];
        for (int v = 0; v < vectors; v++) _table[v * 4 + 3] = VectorMasked;
        _pending = new ulong[(vectors + 63) / 64];
        Span<byte> body = stackalloc byte[10];
        BinaryPrimitives.WriteUInt16LittleEndian(body, (ushort)(vectors - 1));
        BinaryPrimitives.WriteUInt32LittleEndian(body[2..], tableOffset | (uint)tableBar);
        BinaryPrimitives.WriteUInt32LittleEndian(body[6..], pbaOffset | (uint)pbaBar);
        CapabilityOffset = config.AddCapability(CapabilityId, body);
        config.MakeWritable(CapabilityOffset + 2, 2, ControlEnable | ControlFunctionMask);
    }

    public int VectorCount { get; }
    public int CapabilityOffset { get; }
    public int TableBytes => VectorCount * EntrySize;
    public int PbaBytes => _pending.Length * 8;
    public bool Enabled => _enabled;

    public bool IsMasked(int vector) => _functionMasked || (Volatile.Read(ref _table[vector * 4 + 3]) & VectorMasked) != 0;

    /// <summary>Re-reads the control word after a config write (enable and function mask).</summary>
    public void SyncControl()
    {
        ushort control = _config.Get16(CapabilityOffset + 2);
        lock (_lock)
        {
            bool wasEnabled = _enabled;
            _enabled = (control & ControlEnable) != 0;
            _functionMasked = (control & ControlFunctionMask) != 0;
            if (_enabled && !wasEnabled)
                for (int v = 0; v < VectorCount; v++) if ((_table[v * 4 + 3] & VectorMasked) == 0) RouteVector(v);
            if (_enabled && !_functionMasked)
                for (int v = 0; v < VectorCount; v++) DeliverPending(v);
        }
    }

    /// <summary>Raises a vector (NoVector and out-of-range vectors are ignored, as the spec's "no vector").</summary>
    public void Signal(int vector)
    {
        if ((uint)vector >= (uint)VectorCount || !_enabled) return;
        if (!IsMasked(vector))
        {
            _sink.Fire(vector);
            return;
        }
        Interlocked.Or(ref _pending[vector >> 6], 1UL << (vector & 63));
        // The guest may have unmasked between our check and the pending bit: deliver what is now deliverable.
        if (!IsMasked(vector)) lock (_lock) DeliverPending(vector);
    }

    public void ReadTable(ulong offset, Span<byte> data)
    {
        if (!TableDword(offset, data.Length, out int index)) { data.Clear(); return; }
        lock (_lock)
        {
            if (data.Length == 8)
                BinaryPrimitives.WriteUInt64LittleEndian(data, _table[index] | ((ulong)_table[index + 1] << 32));
            else
                BinaryPrimitives.WriteUInt32LittleEndian(data, _table[index]);
        }
    }

    public void WriteTable(ulong offset, ReadOnlySpan<byte> data)
    {
        if (!TableDword(offset, data.Length, out int index)) return;
        lock (_lock)
        {
            int vector = index / 4;
            bool wasMasked = (_table[vector * 4 + 3] & VectorMasked) != 0;
            if (data.Length == 8)
            {
                ulong v = BinaryPrimitives.ReadUInt64LittleEndian(data);
                StoreDword(index, (uint)v);
                StoreDword(index + 1, (uint)(v >> 32));
            }
            else StoreDword(index, BinaryPrimitives.ReadUInt32LittleEndian(data));
            bool masked = (_table[vector * 4 + 3] & VectorMasked) != 0;
            // Re-route when an unmasked vector's message changes or the vector gets unmasked.
            if (!masked && (wasMasked || index % 4 != 3) && _enabled) RouteVector(vector);
            if (wasMasked && !masked) DeliverPending(vector);
        }
    }

    public void ReadPba(ulong offset, Span<byte> data)
    {
        data.Clear();
        if ((offset & 3) != 0 || offset + (ulong)data.Length > (ulong)PbaBytes) return;
        Span<byte> all = stackalloc byte[8];
        for (int i = 0; i < data.Length; i++)
        {
            ulong at = offset + (ulong)i;
            BinaryPrimitives.WriteUInt64LittleEndian(all, Volatile.Read(ref _pending[at / 8]));
            data[i] = all[(int)(at % 8)];
        }
    }

    private void StoreDword(int index, uint value)
    {
        // Vector control: only the mask bit is defined.
        if (index % 4 == 3) value &= VectorMasked;
        Volatile.Write(ref _table[index], value);
    }

    private bool TableDword(ulong offset, int length, out int index)
    {
        index = (int)(offset / 4);
        return (length == 4 || length == 8) && (offset & (ulong)(length - 1)) == 0 && offset + (ulong)length <= (ulong)TableBytes;
    }

    private void RouteVector(int vector) =>
        _sink.Route(vector, _table[vector * 4] | ((ulong)_table[vector * 4 + 1] << 32), _table[vector * 4 + 2]);

    private void DeliverPending(int vector)
    {
        ulong bit = 1UL << (vector & 63);
        if ((Volatile.Read(ref _pending[vector >> 6]) & bit) == 0 || IsMasked(vector) || !_enabled) return;
        Interlocked.And(ref _pending[vector >> 6], ~bit);
        _sink.Fire(vector);
    }
}
