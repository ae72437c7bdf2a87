using Bhyve.Aot.Devices.Bus;

namespace Bhyve.Aot.Devices.Legacy;

/// <summary>
/// A 16550-compatible UART (the 8250 family) as COM1. Transmit never waits: bytes go to a sink that never
/// blocks (the console's bounded buffer), so a slow terminal never stalls a vCPU. Received bytes wait in a
/// 64-byte FIFO. Loopback mode is honoured because Linux's 8250 probe tests it.
/// </summary>
public sealed class Uart8250 : IBusDevice
{
    public const ushort Com1Port = 0x3F8;
    public const int Com1Irq = 4;
    public const int PortCount = 8;
    private const int FifoSize = 64;

    // Register offsets.
    private const int Data = 0, Ier = 1, IirFcr = 2, Lcr = 3, Mcr = 4, Lsr = 5, Msr = 6, Scr = 7;
    // Bits.
    private const byte LcrDlab = 0x80;
    private const byte IerRxAvailable = 0x01, IerThrEmpty = 0x02;
    private const byte IirNoInterrupt = 0x01, IirThrEmpty = 0x02, IirRxAvailable = 0x04, IirFifoEnabled = 0xC0;
    private const byte LsrDataReady = 0x01, LsrThrEmpty = 0x20, LsrTransmitterEmpty = 0x40;
    private const byte McrDtr = 0x01, McrRts = 0x02, McrOut1 = 0x04, McrOut2 = 0x08, McrLoop = 0x10;
    private const byte MsrCts = 0x10, MsrDsr = 0x20, MsrRi = 0x40, MsrDcd = 0x80;

    private readonly ISerialSink _output;
    private readonly IInterruptLine? _irq;
    private readonly Lock _lock = new();
    private readonly byte[] _rx = new byte[FifoSize];
    private int _rxHead, _rxCount;
    private byte _ier, _lcr, _mcr, _scr, _fcr, _dll = 0x0C, _dlm;
    private bool _thrInterruptPending;
    private bool _irqAsserted;
    private bool _outputClosed;

    public Uart8250(ISerialSink output, IInterruptLine? irq = null)
    {
        _output = output;
        _irq = irq;
    }

    /// <summary>Bytes sent by the guest, for statistics and tests.</summary>
    public long TransmittedBytes { get; private set; }

    /// <summary>Offers terminal input to the guest; returns how many bytes fit in the receive FIFO.</summary>
    public int EnqueueInput(ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            int n = 0;
            foreach (byte b in bytes)
            {
                if (!PushRx(b)) break;
                n++;
            }
            UpdateInterrupt();
            return n;
        }
    }

    /// <summary>Stops writing into the output sink (so its owner can close it); later bytes are dropped.</summary>
    public void CloseOutput()
    {
        lock (_lock) _outputClosed = true;
    }

    public void Read(ulong offset, Span<byte> data)
    {
        lock (_lock)
        {
            data[0] = ReadRegister((int)offset);
            // Wider accesses to a byte-wide device read the register and zeros above it.
            data[1..].Clear();
            UpdateInterrupt();
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            WriteRegister((int)offset, data[0]);
            UpdateInterrupt();
        }
    }

    private byte ReadRegister(int register)
    {
        bool dlab = (_lcr & LcrDlab) != 0;
        switch (register)
        {
            case Data when dlab: return _dll;
            case Data: return PopRx();
            case Ier when dlab: return _dlm;
            case Ier: return _ier;
            case IirFcr:
            {
                byte iir = PendingInterrupt();
                // Reading IIR while it reports THR-empty acknowledges that interrupt.
                if (iir == IirThrEmpty) _thrInterruptPending = false;
                return (byte)(iir | ((_fcr & 1) != 0 ? IirFifoEnabled : 0));
            }
            case Lcr: return _lcr;
            case Mcr: return _mcr;
            case Lsr: return (byte)(LsrThrEmpty | LsrTransmitterEmpty | (_rxCount > 0 ? LsrDataReady : 0));
            case Msr: return ModemStatus();
            case Scr: return _scr;
            default: return 0xFF;
        }
    }

    private void WriteRegister(int register, byte value)
    {
        bool dlab = (_lcr & LcrDlab) != 0;
        switch (register)
        {
            case Data when dlab: _dll = value; break;
            case Data: Transmit(value); break;
            case Ier when dlab: _dlm = value; break;
            case Ier:
                // Enabling the THR-empty interrupt raises it at once, since the holding register is always empty.
                if ((value & IerThrEmpty) != 0 && (_ier & IerThrEmpty) == 0) _thrInterruptPending = true;
                _ier = (byte)(value & 0x0F);
                break;
            case IirFcr:
                _fcr = value;
                if ((value & 0x02) != 0) _rxHead = _rxCount = 0; // clear receive FIFO
                break;
            case Lcr: _lcr = value; break;
            case Mcr: _mcr = (byte)(value & 0x1F); break;
            case Scr: _scr = value; break;
        }
    }

    private void Transmit(byte value)
    {
        if ((_mcr & McrLoop) != 0)
        {
            PushRx(value);
        }
        else if (!_outputClosed)
        {
            _output.Write(value);
            TransmittedBytes++;
        }
        _thrInterruptPending = true;
    }

    private byte ModemStatus()
    {
        if ((_mcr & McrLoop) == 0) return MsrDcd | MsrDsr | MsrCts;
        byte msr = 0;
        if ((_mcr & McrDtr) != 0) msr |= MsrDsr;
        if ((_mcr & McrRts) != 0) msr |= MsrCts;
        if ((_mcr & McrOut1) != 0) msr |= MsrRi;
        if ((_mcr & McrOut2) != 0) msr |= MsrDcd;
        return msr;
    }

    private byte PendingInterrupt()
    {
        if ((_ier & IerRxAvailable) != 0 && _rxCount > 0) return IirRxAvailable;
        if ((_ier & IerThrEmpty) != 0 && _thrInterruptPending) return IirThrEmpty;
        return IirNoInterrupt;
    }

    private void UpdateInterrupt()
    {
        // OUT2 gates the interrupt onto the bus on PC-compatible serial ports.
        bool level = PendingInterrupt() != IirNoInterrupt && (_mcr & McrOut2) != 0;
        if (level == _irqAsserted || _irq is null) return;
        _irqAsserted = level;
        _irq.SetLevel(level);
    }

    private bool PushRx(byte b)
    {
        if (_rxCount == FifoSize) return false;
        _rx[(_rxHead + _rxCount) % FifoSize] = b;
        _rxCount++;
        return true;
    }

    private byte PopRx()
    {
        if (_rxCount == 0) return 0;
        byte b = _rx[_rxHead];
        _rxHead = (_rxHead + 1) % FifoSize;
        _rxCount--;
        return b;
    }
}
