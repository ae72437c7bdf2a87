using Bhyve.Aot.Os;
using Xunit;

namespace Bhyve.Aot.Tests.Os;

/// <summary>The VM name becomes the thread's (on the main thread: the process's) comm, cut to the kernel's 15 bytes.</summary>
public class ProcessTitleTests
{
    private static string NameOnFreshThread(string title)
    {
        string seen = "";
        bool set = false;
        // A thread of our own, so the test runner's threads keep their names.
        var t = new Thread(() =>
        {
            set = ProcessTitle.TrySet(title);
            seen = File.ReadAllText("/proc/thread-self/comm").TrimEnd('\n');
        });
        t.Start();
        t.Join();
        Assert.True(set);
        return seen;
    }

    [Fact]
    public void Short_names_are_kept() => Assert.Equal("myvm", NameOnFreshThread("myvm"));

    [Fact]
    public void Long_names_are_cut_to_15_bytes() => Assert.Equal("a-very-long-vm-", NameOnFreshThread("a-very-long-vm-name-indeed"));
}
