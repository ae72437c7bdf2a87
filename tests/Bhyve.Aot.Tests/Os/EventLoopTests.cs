using System.Diagnostics;
using Bhyve.Aot.Os;
using Xunit;

namespace Bhyve.Aot.Tests.Os;

/// <summary>The epoll loop device workers sleep in: tokens, level triggering, the stop eventfd, the timeout.</summary>
public sealed class EventLoopTests : IDisposable
{
    private readonly EventLoop _loop = new();
    private readonly EventFd _a = new(), _b = new();

    public EventLoopTests()
    {
        _loop.Add(_a.Fd, 10);
        _loop.Add(_b.Fd, 20);
    }

    public void Dispose()
    {
        _loop.Dispose();
        _a.Dispose();
        _b.Dispose();
    }

    [Fact]
    public void Reports_the_token_of_each_readable_fd()
    {
        Span<int> ready = stackalloc int[8];
        _b.Signal();
        Assert.Equal(1, _loop.Wait(ready, 1000));
        Assert.Equal(20, ready[0]);
        _a.Signal();
        int n = _loop.Wait(ready, 1000);
        Assert.Equal([10, 20], ready[..n].ToArray().Order());
    }

    [Fact]
    public void Is_level_triggered_until_the_handler_drains_its_fd()
    {
        Span<int> ready = stackalloc int[8];
        _a.Signal();
        Assert.Equal(1, _loop.Wait(ready, 1000));
        Assert.Equal(1, _loop.Wait(ready, 0));
        Assert.Equal(1UL, _a.Drain());
        Assert.Equal(0, _loop.Wait(ready, 0));
    }

    [Fact]
    public void Times_out_with_nothing_ready()
    {
        Span<int> ready = stackalloc int[8];
        long start = Stopwatch.GetTimestamp();
        Assert.Equal(0, _loop.Wait(ready, 30));
        Assert.True(Stopwatch.GetElapsedTime(start).TotalMilliseconds >= 25);
    }

    [Fact]
    public void RequestStop_on_another_thread_wakes_a_waiter_and_stays_signalled()
    {
        int token = 0;
        var waiter = new Thread(() =>
        {
            Span<int> ready = stackalloc int[8];
            if (_loop.Wait(ready, 10_000) == 1) token = ready[0];
        });
        waiter.Start();
        Thread.Sleep(20);
        _loop.RequestStop();
        Assert.True(waiter.Join(5000));
        Assert.Equal(EventLoop.StopToken, token);
        Assert.True(_loop.StopRequested);
        Span<int> again = stackalloc int[8];
        Assert.Equal(1, _loop.Wait(again, 0));
    }

    [Fact]
    public void A_removed_fd_is_no_longer_reported()
    {
        Span<int> ready = stackalloc int[8];
        _loop.Remove(_a.Fd);
        _a.Signal();
        Assert.Equal(0, _loop.Wait(ready, 0));
    }

    [Fact]
    public void WaitReadable_waits_for_one_fd_with_a_timeout()
    {
        Assert.False(EventLoop.WaitReadable(_a.Fd, 10));
        _a.Signal();
        Assert.True(EventLoop.WaitReadable(_a.Fd, 1000));
    }
}
