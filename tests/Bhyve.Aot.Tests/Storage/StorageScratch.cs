using System.Runtime.InteropServices;
using Bhyve.Aot.Interop;
using Bhyve.Aot.Storage;

namespace Bhyve.Aot.Tests.Storage;

/// <summary>A scratch directory on a real file system (/tmp here is ext4, so O_DIRECT and punching work), removed on Dispose.</summary>
internal sealed class StorageScratch : IDisposable
{
    public StorageScratch()
    {
        Directory = Path.Combine(Path.GetTempPath(), "bhyve-aot-storage-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }
    public string PathOf(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Page-aligned native buffers (guest RAM stand-ins) and the helpers the engine tests share.</summary>
internal sealed unsafe class NativeBuffer : IDisposable
{
    public NativeBuffer(int bytes)
    {
        Length = bytes;
        Pointer = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        Span.Clear();
    }

    public byte* Pointer { get; private set; }
    public int Length { get; }
    public Span<byte> Span => new(Pointer, Length);
    public IoVec At(int offset, int length) => new((nint)(Pointer + offset), (nuint)length);

    public void Dispose()
    {
        if (Pointer != null) NativeMemory.AlignedFree(Pointer);
        Pointer = null;
    }
}

internal static unsafe class EngineDriver
{
    public static IBlockEngine Create(BlockEngineKind kind, BlockFile file, BlockEngineOptions? options = null) =>
        BlockEngineFactory.Create(file, options ?? BlockEngineOptions.Default, kind, out _);

    /// <summary>Submits what is prepared and waits (spinning on Reap) for exactly one completion.</summary>
    public static BlockCompletion WaitOne(IBlockEngine engine)
    {
        engine.Submit();
        Span<BlockCompletion> one = stackalloc BlockCompletion[1];
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (engine.Reap(one) == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("no completion within 10 s");
            Thread.Yield();
        }
        return one[0];
    }

    public static int Read(IBlockEngine e, ulong offset, ReadOnlySpan<IoVec> iov)
    {
        if (!e.TryRead(offset, iov, 7)) throw new InvalidOperationException("engine full");
        var c = WaitOne(e);
        if (c.UserData != 7) throw new InvalidOperationException("user data lost");
        return c.Result;
    }

    public static int Write(IBlockEngine e, ulong offset, ReadOnlySpan<IoVec> iov, bool fua = false)
    {
        if (!e.TryWrite(offset, iov, fua, 8)) throw new InvalidOperationException("engine full");
        return WaitOne(e).Result;
    }

    /// <summary>st_blocks (512-byte units) of a path, via statx.</summary>
    public static ulong AllocatedBlocks(string path)
    {
        byte* stx = stackalloc byte[Statx.Size];
        byte[] name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = name)
        {
            if (Libc.Syscall(Statx.SyscallNumber, Statx.AtFdCwd, (long)p, 0, BlockAbi.StatxMaskBlocks, (long)stx, 0) < 0)
                throw new IOException("statx " + path);
        }
        return *(ulong*)(stx + BlockAbi.StatxBlocksOffset);
    }
}
