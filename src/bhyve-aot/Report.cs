using Bhyve.Aot.Boot;
using Bhyve.Aot.Kvm;
using Bhyve.Aot.Os;
using Bhyve.Aot.Storage;
using Bhyve.Aot.Vmm;

namespace Bhyve.Aot.Cli;

/// <summary>
/// The one place where bhyve-aot speaks to its user on stderr: every line goes out through <see cref="Fail"/>, one line
/// (control characters escaped), prefixed "bhyve-aot: ", and every exception that gets this far becomes such a line
/// and a status from ExitCodes in <see cref="Exception"/>. Only our own exceptions' messages are shown: .NET's are
/// resource keys in this build (UseSystemResourceKeys) and name types, so they never reach a user.
/// </summary>
public static class Report
{
    public const string Prefix = "bhyve-aot: ";

    /// <summary>Set BHYVE_AOT_DEBUG=1 to see the exception behind an unexpected failure (for a bug report).</summary>
    private static bool Debug => Environment.GetEnvironmentVariable("BHYVE_AOT_DEBUG") == "1";

    /// <summary>One line on stderr, prefixed with the program name; returns <paramref name="code"/>.</summary>
    public static int Fail(int code, string message)
    {
        try { Console.Error.WriteLine(Prefix + OneLine(message)); }
        catch (IOException) { }          // stderr gone: the status still says what happened
        catch (UnauthorizedAccessException) { }
        return code;
    }

    /// <summary>A message as one line: line breaks and other control characters shown as escapes.</summary>
    public static string OneLine(string message)
    {
        if (!message.Any(c => char.IsControl(c) || c is '\u2028' or '\u2029')) return message;
        var sb = new System.Text.StringBuilder(message.Length + 8);
        foreach (char c in message)
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) || c is '\u2028' or '\u2029' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        return sb.ToString();
    }

    /// <summary>Any exception, as the status and line the user gets; <paramref name="vm"/> is the "NAME: " prefix, if any.</summary>
    public static int Exception(Exception e, string vm = "")
    {
        var (code, line, bug) = Classify(e, vm);
        if (bug && Debug)
        {
            try { Console.Error.WriteLine(e.ToString()); } catch (IOException) { }
        }
        return Fail(code, line);
    }

    /// <summary>
    /// The status and line for an exception, without printing them: <see cref="Exception"/> prints them; the
    /// Firecracker API answers a failed InstanceStart with the same line as its fault.
    /// </summary>
    public static (int Code, string Line) Describe(Exception e, string vm = "")
    {
        var (code, line, _) = Classify(e, vm);
        return (code, line);
    }

    /// <summary>Status and line; <c>Bug</c> when the exception is none we expect (only then is BHYVE_AOT_DEBUG's stack trace useful).</summary>
    private static (int Code, string Line, bool Bug) Classify(Exception e, string vm) => e switch
    {
        ConfigException or InputFileException => (ExitCodes.Usage, vm + e.Message, false),
        BlockFileException => (ExitCodes.Usage, vm + e.Message, false),
        // A shortage (ENOMEM, EMFILE, ...) is the host's state, not a missing KVM, whichever call ran into it.
        ErrnoException { ExhaustedResource: { } resource } => (ExitCodes.HostResource, $"{vm}host out of {resource}: {e.Message}", false),
        SeccompException => (ExitCodes.VmmFailure, vm + e.Message, false),
        KvmException => (ExitCodes.HostUnsupported, $"{vm}{e.Message} (run `bhyve-aot check`)", false),
        ErrnoException => (ExitCodes.VmmFailure, $"{vm}a host call failed: {e.Message}", false),
        OutOfMemoryException or InsufficientExecutionStackException => (ExitCodes.VmmFailure, $"{vm}out of memory in the VMM process", false),
        IOException or UnauthorizedAccessException when !StandardOutput.IsOpen() => (ExitCodes.OutputFailed, "standard output is closed or cannot be written", false),
        _ => (ExitCodes.VmmFailure, $"{vm}unexpected failure inside bhyve-aot (a bug: please report it with the command line; BHYVE_AOT_DEBUG=1 shows details)", true),
    };
}
