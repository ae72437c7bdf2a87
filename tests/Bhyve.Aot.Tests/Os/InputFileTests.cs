using Bhyve.Aot.Os;
using Xunit;

namespace Bhyve.Aot.Tests.Os;

/// <summary>Files users name: regular files only, capped before reading, each refusal one line with the right word.</summary>
public sealed class InputFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bhyve-aot-input-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Refusal(string path, long max = 1 << 20, bool allowEmpty = true) =>
        Assert.Throws<InputFileException>(() => InputFile.ReadAll(path, "kernel image", max, allowEmpty)).Message;

    [Fact]
    public void A_regular_file_is_read_whole()
    {
        string f = Path.Combine(_dir, "k");
        byte[] data = Enumerable.Range(0, 100_000).Select(i => (byte)i).ToArray();
        File.WriteAllBytes(f, data);
        Assert.Equal(data, InputFile.ReadAll(f, "kernel image", 1 << 20));
    }

    [Fact]
    public void Devices_directories_and_fifos_are_refused_by_name_without_reading_or_blocking()
    {
        Assert.Equal("kernel image /dev/zero: is not a regular file (a character device)", Refusal("/dev/zero"));
        Assert.Equal($"kernel image {_dir}: is a directory", Refusal(_dir));
        string fifo = Path.Combine(_dir, "fifo");
        using (var p = System.Diagnostics.Process.Start("mkfifo", [fifo])) p.WaitForExit();
        // Opened non-blocking: no writer is needed for the refusal to come back at once.
        Assert.Equal($"kernel image {fifo}: is not a regular file (a FIFO)", Refusal(fifo));
    }

    [Fact]
    public void The_size_cap_is_checked_before_reading_and_empty_files_may_be_refused()
    {
        string f = Path.Combine(_dir, "big");
        using (var s = File.Create(f)) s.SetLength(3 << 20);
        Assert.Equal($"kernel image {f}: 3 MiB is too large (at most 1 MiB)", Refusal(f));
        string e = Path.Combine(_dir, "empty");
        File.WriteAllBytes(e, []);
        Assert.Equal($"kernel image {e}: the file is empty", Refusal(e, allowEmpty: false));
    }

    [Fact]
    public void A_missing_file_and_a_missing_directory_are_told_apart()
    {
        Assert.Equal($"kernel image {_dir}/nothing: no such file", Refusal(Path.Combine(_dir, "nothing")));
        Assert.Equal($"kernel image {_dir}/a/b/k: the directory {_dir}/a does not exist", Refusal(Path.Combine(_dir, "a/b/k")));
        File.WriteAllText(Path.Combine(_dir, "file"), "x");
        Assert.Equal($"kernel image {_dir}/file/k: a part of the path is not a directory", Refusal(Path.Combine(_dir, "file/k")));
    }

    [Theory]
    [InlineData("a\nb", "a\\nb")]
    [InlineData("tab\there", "tab\\there")]
    [InlineData("bell\u0007", "bell\\x07")]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData("ls\u2028ps", "ls\\u2028ps")]
    [InlineData("plain/é.img", "plain/é.img")]
    public void Names_are_escaped_onto_one_line(string name, string shown) => Assert.Equal(shown, InputFile.Escape(name));
}
