using Bhyve.Aot.Interop;
using Bhyve.Aot.Os;
using Xunit;

namespace Bhyve.Aot.Tests.Os;

/// <summary>
/// The compiled filters, run in a classic-BPF interpreter written here from the instruction set: every table entry
/// is allowed for its kinds (and only with allowed arguments), everything else traps, foreign architectures and
/// x32 numbers kill. The table's KVM ioctl numbers are the ones the VMM really issues.
/// </summary>
public class SeccompProgramTests
{
    private static readonly SeccompThreadKind[] Kinds = [SeccompThreadKind.Main, SeccompThreadKind.Vcpu, SeccompThreadKind.DeviceWorker, SeccompThreadKind.Api];

    /// <summary>Runs a program over one seccomp_data (nr, arch, args) and returns the action word.</summary>
    private static uint Run(SockFilter[] program, int nr, params ulong[] args) => RunArch(program, nr, SeccompAbi.AuditArchX86_64, args);

    private static uint RunArch(SockFilter[] program, int nr, uint arch, params ulong[] args)
    {
        var data = new byte[64];
        BitConverter.GetBytes(nr).CopyTo(data, 0);
        BitConverter.GetBytes(arch).CopyTo(data, 4);
        for (int i = 0; i < args.Length; i++) BitConverter.GetBytes(args[i]).CopyTo(data, 16 + 8 * i);
        uint a = 0;
        for (int pc = 0, steps = 0; steps < 10_000; steps++)
        {
            var ins = program[pc];
            switch (ins.Code)
            {
                case SeccompAbi.LdWAbs: a = BitConverter.ToUInt32(data, (int)ins.K); pc++; break;
                case SeccompAbi.AndK: a &= ins.K; pc++; break;
                case SeccompAbi.JeqK: pc += 1 + (a == ins.K ? ins.Jt : ins.Jf); break;
                case SeccompAbi.RetK: return ins.K;
                default: throw new InvalidOperationException($"unknown opcode 0x{ins.Code:x} at {pc}");
            }
            Assert.InRange(pc, 0, program.Length - 1);
        }
        throw new InvalidOperationException("no return within 10000 steps");
    }

    [Fact]
    public void Every_table_entry_is_allowed_for_its_kinds_with_allowed_arguments()
    {
        foreach (var kind in Kinds)
        {
            var program = SeccompFilter.Program(kind);
            foreach (var rule in SeccompPolicy.Rules)
            {
                if ((rule.Kinds & kind) == 0) continue;
                var args = new ulong[6];
                if (rule.Check == SeccompArgCheck.OneOf)
                {
                    foreach (uint v in rule.Values!)
                    {
                        args[rule.Arg] = v;
                        Assert.True(Run(program, rule.Number, args) == SeccompAbi.RetAllow, $"{kind}: {rule.Name}({v:x}) not allowed");
                    }
                    args[rule.Arg] = 0xDEAD_0000;
                    Assert.True(Run(program, rule.Number, args) == SeccompAbi.RetTrap, $"{kind}: {rule.Name} with a value outside its list allowed");
                }
                else if (rule.Check == SeccompArgCheck.NoBitsOf)
                {
                    args[rule.Arg] = 0;
                    Assert.True(Run(program, rule.Number, args) == SeccompAbi.RetAllow, $"{kind}: {rule.Name} not allowed");
                    args[rule.Arg] = rule.Values![0];
                    Assert.True(Run(program, rule.Number, args) == SeccompAbi.RetTrap, $"{kind}: {rule.Name} with a forbidden bit allowed");
                }
                else Assert.True(Run(program, rule.Number, args) == SeccompAbi.RetAllow, $"{kind}: {rule.Name} not allowed");
            }
        }
    }

    [Theory]
    [InlineData(2, "open")]
    [InlineData(59, "execve")]
    [InlineData(57, "fork")]
    [InlineData(101, "ptrace")]
    [InlineData(165, "mount")]
    [InlineData(42, "connect")]
    [InlineData(321, "bpf")]
    [InlineData(310, "process_vm_readv")]
    public void What_no_thread_needs_traps_everywhere(int nr, string name)
    {
        Assert.Equal(name, SeccompPolicy.NameOf(nr));
        foreach (var kind in Kinds) Assert.Equal(SeccompAbi.RetTrap, Run(SeccompFilter.Program(kind), nr));
    }

    [Fact]
    public void Argument_checks_separate_the_kinds()
    {
        var vcpu = SeccompFilter.Program(SeccompThreadKind.Vcpu);
        var worker = SeccompFilter.Program(SeccompThreadKind.DeviceWorker);
        var api = SeccompFilter.Program(SeccompThreadKind.Api);
        var main = SeccompFilter.Program(SeccompThreadKind.Main);
        const int Ioctl = 16, Socket = 41, Mmap = 9;
        Assert.Equal(SeccompAbi.RetAllow, Run(vcpu, Ioctl, 5, KvmIoctl.Run));
        Assert.Equal(SeccompAbi.RetTrap, Run(worker, Ioctl, 5, KvmIoctl.Run));         // a worker never runs a vCPU
        Assert.Equal(SeccompAbi.RetTrap, Run(vcpu, Ioctl, 5, KvmIoctl.CreateVm));      // nobody makes a VM after boot
        Assert.Equal(SeccompAbi.RetTrap, Run(vcpu, Ioctl, 5, KvmIoctl.SetUserMemoryRegion));
        Assert.Equal(SeccompAbi.RetAllow, Run(worker, Ioctl, 5, KvmIoctl.Ioeventfd));   // shadow doorbells
        Assert.Equal(SeccompAbi.RetAllow, Run(main, Ioctl, 0, SeccompPolicy.Tcsets));   // terminal restored at exit
        Assert.Equal(SeccompAbi.RetTrap, Run(main, Ioctl, 5, KvmIoctl.Run));
        Assert.Equal(SeccompAbi.RetAllow, Run(api, Socket, 1, 1));                      // AF_UNIX
        Assert.Equal(SeccompAbi.RetTrap, Run(api, Socket, 2, 1));                       // AF_INET
        Assert.Equal(SeccompAbi.RetTrap, Run(vcpu, Socket, 1, 1));
        Assert.Equal(SeccompAbi.RetTrap, Run(worker, Mmap, 0, 4096, 7));                // PROT_EXEC
        Assert.Equal(SeccompAbi.RetTrap, Run(worker, 425));                              // io_uring_setup
        Assert.Equal(SeccompAbi.RetAllow, Run(worker, 257, 0, 0, 0x80000));              // openat O_RDONLY|O_CLOEXEC
        Assert.Equal(SeccompAbi.RetTrap, Run(worker, 257, 0, 0, 0x2));                   // O_RDWR
        Assert.Equal(SeccompAbi.RetTrap, Run(main, 257, 0, 0, 0x41));                    // O_WRONLY|O_CREAT
        // The high half of a 64-bit ioctl word is ignored by the kernel, and by the filter.
        Assert.Equal(SeccompAbi.RetAllow, Run(vcpu, Ioctl, 5, 0xFFFF_FFFF_0000_0000UL | KvmIoctl.Run));
    }

    [Fact]
    public void Foreign_architectures_and_x32_numbers_are_killed()
    {
        foreach (var kind in Kinds)
        {
            var p = SeccompFilter.Program(kind);
            Assert.Equal(SeccompAbi.RetKillProcess, RunArch(p, 0, 0x4000_0003 /* AUDIT_ARCH_I386 */));
            Assert.Equal(SeccompAbi.RetKillProcess, Run(p, 0x4000_0000 | 1)); // x32 write
        }
    }

    [Fact]
    public void The_table_names_the_KVM_ioctls_the_VMM_issues()
    {
        Assert.Equal((uint)KvmIoctl.Run, SeccompPolicy.KvmRun);
        Assert.Equal((uint)KvmIoctl.IrqLine, SeccompPolicy.KvmIrqLine);
        Assert.Equal((uint)KvmIoctl.SetGsiRouting, SeccompPolicy.KvmSetGsiRouting);
        Assert.Equal((uint)KvmIoctl.Irqfd, SeccompPolicy.KvmIrqfd);
        Assert.Equal((uint)KvmIoctl.Ioeventfd, SeccompPolicy.KvmIoeventfd);
        Assert.Equal((uint)KvmIoctl.SignalMsi, SeccompPolicy.KvmSignalMsi);
        Assert.Equal((uint)KvmIoctl.GetRegs, SeccompPolicy.KvmGetRegs);
        Assert.Equal((uint)KvmIoctl.SetRegs, SeccompPolicy.KvmSetRegs);
        Assert.Equal((uint)KvmIoctl.GetSregs, SeccompPolicy.KvmGetSregs);
        Assert.Equal((uint)KvmIoctl.SetSregs, SeccompPolicy.KvmSetSregs);
    }
}
