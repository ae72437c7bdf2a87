using System.CommandLine;
using Bhyve.Aot.Os;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// `bhyve-aot seccomp-probe KIND NR [ARG...]` (hidden; README: SECCOMP): on a new thread filtered as KIND (main,
/// vcpu, worker, api), makes system call NR with up to three integer arguments and prints what it returned. A call
/// the filter forbids ends the process exactly as in a VM: one line on stderr and exit status 10. The tests use it
/// to prove that the installed filters really stop what the table does not allow, in the real AOT binary.
/// </summary>
public static class SeccompProbeCommand
{
    public static Command Create()
    {
        var kind = new Argument<string>("kind") { Description = "main, vcpu, worker or api" };
        var nr = new Argument<long>("nr") { Description = "x86-64 system call number" };
        var args = new Argument<long[]>("args") { Description = "up to three integer arguments", Arity = new ArgumentArity(0, 3) };
        var command = new Command("seccomp-probe", "Make one system call on a thread under a seccomp filter (diagnostic).") { kind, nr, args };
        command.Hidden = true;
        command.SetAction(result =>
        {
            SeccompThreadKind k = result.GetValue(kind) switch
            {
                "main" => SeccompThreadKind.Main,
                "vcpu" => SeccompThreadKind.Vcpu,
                "worker" => SeccompThreadKind.DeviceWorker,
                "api" => SeccompThreadKind.Api,
                var other => SeccompThreadKind.None,
            };
            if (k == SeccompThreadKind.None) return Program.Fail(ExitCodes.Usage, $"seccomp-probe: unknown thread kind '{result.GetValue(kind)}' (main, vcpu, worker, api)");
            long[] a = [.. result.GetValue(args) ?? [], 0, 0, 0];
            long number = result.GetValue(nr);
            long answer = 0;
            int errno = 0;
            try { SeccompFilter.Configure(true, ExitCodes.VmmFailure); }
            catch (SeccompException e) { return Program.Fail(ExitCodes.VmmFailure, e.Message); }
            var thread = new Thread(() =>
            {
                SeccompFilter.EnterThread(k);
                answer = SeccompProbe.Call(number, a[0], a[1], a[2], out errno);
            }) { Name = "seccomp-probe" };
            thread.Start();
            thread.Join();
            Console.WriteLine(answer < 0 ? $"returned -1 (errno {errno})" : $"returned {answer}");
            return 0;
        });
        return command;
    }
}
