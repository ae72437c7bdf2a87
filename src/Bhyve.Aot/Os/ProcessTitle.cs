namespace Bhyve.Aot.Os;

/// <summary>
/// Names the calling thread through /proc/thread-self/comm. Called on the main thread it names the process as ps, top
/// and /proc/PID/comm show it, the way bhyve titles its process with the VM name.
/// </summary>
public static class ProcessTitle
{
    /// <summary>The kernel keeps TASK_COMM_LEN (16) bytes with the terminating NUL.</summary>
    public const int MaxLength = 15;

    /// <summary>Sets the name, cut to 15 bytes; false where /proc is not there to write (a title is not worth failing for).</summary>
    public static bool TrySet(string name)
    {
        string shown = name.Length > MaxLength ? name[..MaxLength] : name;
        try
        {
            File.WriteAllText("/proc/thread-self/comm", shown);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
