using Bhyve.Aot.Host;
using Xunit;

namespace Bhyve.Aot.Tests.Host;

/// <summary>The text parsers behind the probes: /proc/cpuinfo, /etc/group, /proc/self/status.</summary>
public class HostParsingTests
{
    [Fact]
    public void CpuinfoFlagsComeFromTheFirstProcessorIncludingVmxFlags()
    {
        const string cpuinfo =
            "processor\t: 0\nflags\t\t: fpu vme popcnt\nvmx flags\t: vnmi ept vpid unrestricted_guest\n\n"
            + "processor\t: 1\nflags\t\t: fpu npt\n";
        var flags = CpuProbe.ParseCpuinfoFlags(cpuinfo);
        Assert.Equal(new CpuinfoFlags(Ept: true, Npt: false, Vpid: true), flags);
    }

    [Fact]
    public void CpuinfoFlagsAreNullWithoutCpuinfo() => Assert.Null(CpuProbe.ParseCpuinfoFlags(null));

    [Fact]
    public void AmdNptFlag() =>
        Assert.Equal(new CpuinfoFlags(false, true, false), CpuProbe.ParseCpuinfoFlags("flags : svm npt popcnt\n"));

    [Fact]
    public void GroupNameById()
    {
        const string group = "root:x:0:\nkvm:x:108:alice,bob\nusers:x:100:\n";
        Assert.Equal("kvm", UnixAccounts.NameOf(group, 108));
        Assert.Equal("root", UnixAccounts.NameOf(group, 0));
        Assert.Null(UnixAccounts.NameOf(group, 5));
        Assert.Null(UnixAccounts.NameOf(null, 0));
    }

    [Fact]
    public void OurGroupsFromProcStatus()
    {
        const string status = "Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\nGroups:\t4 27 108 \n";
        var groups = UnixAccounts.GroupsOf(status);
        Assert.Contains(108u, groups);
        Assert.Contains(1000u, groups);
        Assert.DoesNotContain(0u, groups);
    }
}
