namespace Bhyve.Aot.Devices;

/// <summary>A level-triggered interrupt input (an IOAPIC/PIC pin for legacy devices).</summary>
public interface IInterruptLine
{
    void SetLevel(bool asserted);
}
