using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;

namespace Bhyve.Aot.Vmm;

/// <summary>
/// Puts the terminal on stdin into raw mode for the guest's serial console (every key, Ctrl-C included,
/// goes to the guest) and restores the saved settings on Dispose, at process exit and on SIGHUP and SIGQUIT sent
/// from outside (SIGTERM and SIGINT do not end the process: they shut the machine down, and Dispose restores the
/// terminal at the end of that). When stdin is not a terminal (pipes, tests) nothing changes.
/// </summary>
public sealed class TerminalRawMode : IDisposable
{
    private const int StdinFd = 0, TcsaNow = 0;
    private readonly Termios _saved;
    private readonly List<PosixSignalRegistration> _signals = [];
    private int _restored;

    private TerminalRawMode(Termios saved)
    {
        _saved = saved;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Restore();
        foreach (var signal in new[] { PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
            _signals.Add(PosixSignalRegistration.Create(signal, _ => Restore()));
    }

    /// <summary>Raw mode when stdin is a terminal whose settings we can read and change; null otherwise.</summary>
    // SAFETY: tcgetattr/tcsetattr/cfmakeraw get Termios values on our stack, sized for glibc's struct termios
    public static unsafe TerminalRawMode? TryEnter()
    {
        if (Libc.Isatty(StdinFd) != 1) return null;
        Termios saved, raw;
        if (Libc.Tcgetattr(StdinFd, &saved) != 0) return null;
        raw = saved;
        Libc.Cfmakeraw(&raw);
        if (Libc.Tcsetattr(StdinFd, TcsaNow, &raw) != 0) return null;
        return new TerminalRawMode(saved);
    }

    public void Dispose()
    {
        Restore();
        foreach (var s in _signals) s.Dispose();
    }

    // SAFETY: tcsetattr reads a Termios copy on our stack
    private unsafe void Restore()
    {
        if (Interlocked.Exchange(ref _restored, 1) != 0) return;
        var saved = _saved;
        Libc.Tcsetattr(StdinFd, TcsaNow, &saved);
    }
}
