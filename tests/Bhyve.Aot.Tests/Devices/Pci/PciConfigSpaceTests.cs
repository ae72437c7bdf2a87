using Bhyve.Aot.Devices.Pci;
using Xunit;

namespace Bhyve.Aot.Tests.Devices.Pci;

/// <summary>Config-space write masks and the capability list: what a guest may and may not change.</summary>
public sealed class PciConfigSpaceTests
{
    private static PciConfigSpace NewSpace() => new(0x1AF4, 0x1042, classCode: 0x01, subClass: 0x80, progIf: 0x00, revision: 1);

    private static void Write32(PciConfigSpace c, int offset, uint value) => c.Write(offset, BitConverter.GetBytes(value));

    [Fact]
    public void Identity_registers_are_read_only()
    {
        var c = NewSpace();
        Write32(c, PciConfigSpace.VendorId, 0xFFFF_FFFF);
        Write32(c, PciConfigSpace.RevisionId, 0xFFFF_FFFF);
        Write32(c, PciConfigSpace.SubsystemVendorId, 0xFFFF_FFFF);
        Assert.Equal(0x1042_1AF4u, c.Get32(PciConfigSpace.VendorId));
        Assert.Equal(0x0180_0001u, c.Get32(PciConfigSpace.RevisionId)); // class 01, subclass 80, prog-if 00, revision 1
        Assert.Equal(0u, c.Get32(PciConfigSpace.SubsystemVendorId));
    }

    [Fact]
    public void Command_keeps_only_the_implemented_bits()
    {
        var c = NewSpace();
        c.Write(PciConfigSpace.Command, BitConverter.GetBytes((ushort)0xFFFF));
        Assert.Equal(PciConfigSpace.CommandIo | PciConfigSpace.CommandMemory | PciConfigSpace.CommandBusMaster | PciConfigSpace.CommandIntxDisable,
                     c.CommandRegister);
        c.Write(PciConfigSpace.Command, BitConverter.GetBytes((ushort)0));
        Assert.Equal(0, c.CommandRegister);
    }

    [Fact]
    public void Status_error_bits_are_write_one_to_clear_and_the_rest_read_only()
    {
        var c = NewSpace();
        c.AddCapability(0x09, new byte[2]);
        c.Set16(PciConfigSpace.Status, (ushort)(c.Get16(PciConfigSpace.Status) | 0xF900));
        // Writing 1 to some error bits clears just those; 0s leave the others; capability bit stays.
        c.Write(PciConfigSpace.Status, BitConverter.GetBytes((ushort)0x8100));
        Assert.Equal((ushort)(0x7800 | PciConfigSpace.StatusCapabilities), c.Get16(PciConfigSpace.Status));
        c.Write(PciConfigSpace.Status, BitConverter.GetBytes((ushort)0xFFFF));
        Assert.Equal(PciConfigSpace.StatusCapabilities, c.Get16(PciConfigSpace.Status));
    }

    [Fact]
    public void A_dword_write_at_command_changes_command_but_clears_status_only_where_written_ones()
    {
        var c = NewSpace();
        c.Set16(PciConfigSpace.Status, 0x2000); // received master abort
        Write32(c, PciConfigSpace.Command, 0x0000_0006); // status half 0: nothing cleared
        Assert.Equal(6, c.CommandRegister);
        Assert.Equal(0x2000, c.Get16(PciConfigSpace.Status));
    }

    [Fact]
    public void Interrupt_line_is_writable_and_pin_is_not()
    {
        var c = NewSpace();
        c.Write(PciConfigSpace.InterruptLine, [0x0B, 0x04]);
        Assert.Equal(0x0B, c.Get8(PciConfigSpace.InterruptLine));
        Assert.Equal(0, c.Get8(PciConfigSpace.InterruptPin));
    }

    [Fact]
    public void Capabilities_chain_from_0x34_with_dword_aligned_offsets_and_set_the_status_bit()
    {
        var c = NewSpace();
        Assert.Equal(0, c.Get16(PciConfigSpace.Status) & PciConfigSpace.StatusCapabilities);
        int a = c.AddCapability(0x09, new byte[] { 1, 2, 3 });   // 5 bytes → next at +8
        int b = c.AddCapability(0x11, new byte[10]);
        int d = c.AddCapability(0x05, new byte[] { 0xAA });

        Assert.Equal(0x40, a);
        Assert.Equal(0x48, b);
        Assert.Equal(0x54, d);
        Assert.Equal(a, c.Get8(PciConfigSpace.CapabilitiesPointer));
        Assert.Equal((0x09, b), (c.Get8(a), (int)c.Get8(a + 1)));
        Assert.Equal((0x11, d), (c.Get8(b), (int)c.Get8(b + 1)));
        Assert.Equal((0x05, 0), (c.Get8(d), (int)c.Get8(d + 1)));
        Assert.Equal(new byte[] { 1, 2, 3 }, new[] { c.Get8(a + 2), c.Get8(a + 3), c.Get8(a + 4) });
        Assert.NotEqual(0, c.Get16(PciConfigSpace.Status) & PciConfigSpace.StatusCapabilities);
    }

    [Fact]
    public void Capability_bytes_are_read_only_unless_made_writable()
    {
        var c = NewSpace();
        int a = c.AddCapability(0x09, new byte[] { 1, 2, 3, 4 });
        c.MakeWritable(a + 4, 1, 0x0F);
        c.Write(a, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.Equal(new byte[] { 0x09, 0, 1, 2, 0x0F, 4 }, new[] { c.Get8(a), c.Get8(a + 1), c.Get8(a + 2), c.Get8(a + 3), c.Get8(a + 4), c.Get8(a + 5) });
    }

    [Fact]
    public void A_full_capability_list_is_refused()
    {
        var c = NewSpace();
        Assert.Throws<InvalidOperationException>(() => { for (int i = 0; i < 64; i++) c.AddCapability(0x09, new byte[14]); });
    }

    [Fact]
    public void Reads_past_4_KiB_are_all_ones_and_writes_there_are_dropped()
    {
        var c = NewSpace();
        var data = new byte[4];
        c.Read(PciConfigSpace.Size - 2, data);
        Assert.Equal(new byte[] { 0, 0, 0xFF, 0xFF }, data);
        c.Write(PciConfigSpace.Size - 1, [1, 2, 3, 4]); // must not throw
    }
}
