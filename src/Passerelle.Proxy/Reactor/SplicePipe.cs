namespace Passerelle.Proxy.Reactor;

/// <summary>
/// A kernel pipe through which a large message goes from one socket to another without being copied into the
/// gateway (splice(2): the socket's pages are moved into the pipe, then handed to the other socket). A pipe is only
/// held while bytes are in flight and goes back to a small shared pool once empty, so an idle WebSocket holds none.
/// A pipe left with bytes in it (a peer failed mid-message) is closed instead.
/// </summary>
internal sealed class SplicePipe
{
    /// <summary>What one pipe holds at most (the pool's pipes together stay well under the kernel's per-user soft limit of 64 MiB).</summary>
    private const int Capacity = 256 * 1024;

    /// <summary>
    /// Pipes in the process at most, pooled or in use (two descriptors each, counted in the traffic port's open-file
    /// budget): a large message that finds none free is copied, as a small one is.
    /// </summary>
    public const int MaxPipes = 32;

    private static readonly Stack<SplicePipe> Pool = new();
    private static int s_open; // pipes that exist, pooled or in use; changed under the pool's lock
    private static long s_bytes;

    private SplicePipe(int readFd, int writeFd, int capacity)
    {
        ReadFd = readFd;
        WriteFd = writeFd;
        Size = capacity;
    }

    public int ReadFd { get; }

    public int WriteFd { get; }

    /// <summary>Bytes the pipe takes at most; the kernel may keep it at its default (64 KiB) under memory pressure.</summary>
    public int Size { get; }

    /// <summary>Bytes moved into the pipe and not yet out of it.</summary>
    public int Buffered { get; set; }

    /// <summary>Turned off with the environment variable <c>PASSERELLE_SPLICE=0</c> (messages are then copied), or by tests.</summary>
    internal static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("PASSERELLE_SPLICE") != "0";

    /// <summary>All bytes that went through pipes since the process started (for tests and diagnostics).</summary>
    internal static long TotalBytes => Interlocked.Read(ref s_bytes);

    internal static void Count(int bytes) => Interlocked.Add(ref s_bytes, bytes);

    /// <summary>
    /// A pipe from the pool or a new one; null when <see cref="MaxPipes"/> are in use or none can be made (out of
    /// descriptors): the caller copies instead.
    /// </summary>
    public static unsafe SplicePipe? Rent()
    {
        lock (Pool)
        {
            if (Pool.TryPop(out var pooled))
            {
                return pooled;
            }

            if (s_open == MaxPipes)
            {
                return null;
            }

            s_open++;
        }

        var fds = stackalloc int[2];
        if (Libc.Pipe(fds, Libc.SockNonBlocking | Libc.CloseOnExec) != 0)
        {
            Forget();
            return null;
        }

        var size = Libc.FcntlInt(fds[1], Libc.SetPipeSize, Capacity);
        return new SplicePipe(fds[0], fds[1], size > 0 ? size : 64 * 1024);
    }

    /// <summary>Gives the pipe back once empty; closes it if bytes are left in it.</summary>
    public void Return()
    {
        if (Buffered == 0)
        {
            lock (Pool)
            {
                Pool.Push(this);
                return;
            }
        }

        Libc.Close(ReadFd);
        Libc.Close(WriteFd);
        Forget();
    }

    private static void Forget()
    {
        lock (Pool)
        {
            s_open--;
        }
    }
}
