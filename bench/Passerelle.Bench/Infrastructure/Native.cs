using System.Net;
using System.Runtime.InteropServices;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// The few libc calls the load generator makes itself: non-blocking sockets and one epoll set, so that one thread
/// drives thousands of WebSockets with a system call per read or write and nothing else (no thread pool hop, no
/// per-operation object), and so that it is not the bottleneck of what it measures. Linux only, as the bench is.
/// </summary>
internal static unsafe partial class Native
{
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EINPROGRESS = 115;

    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;

    private const int AF_INET = 2;
    private const int SOCK_STREAM = 1;
    private const int SOCK_NONBLOCK = 0x800;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1;
    private const int SO_ERROR = 4;
    private const int SOL_IP = 0;
    private const int IP_BIND_ADDRESS_NO_PORT = 24;
    private const int IPPROTO_TCP = 6;
    private const int TCP_NODELAY = 1;
    private const int EPOLL_CLOEXEC = 0x80000;
    private const int EPOLL_CTL_ADD = 1;
    private const int EPOLL_CTL_DEL = 2;
    private const int EPOLL_CTL_MOD = 3;

    /// <summary>struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16 bytes).</summary>
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>A non-blocking TCP socket bound to <paramref name="source"/> (port chosen at connect), connecting to <paramref name="target"/>.</summary>
    /// <returns>The file descriptor; the connection completes when it is writable (<see cref="SocketError"/> tells how).</returns>
    public static int StartConnect(IPAddress source, IPEndPoint target)
    {
        var fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new BenchException($"socket() failed: errno {Errno} (too many open files? raise ulimit -n)");
        }

        var one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(int));
        // Binding the address alone, with the port left to connect(), lets each source address serve many targets.
        setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(int));
        var local = SockAddr(new IPEndPoint(source, 0));
        if (bind(fd, &local, sizeof(SockAddrIn)) != 0)
        {
            var error = Errno;
            close(fd);
            throw new BenchException($"bind({source}) failed: errno {error}");
        }

        var remote = SockAddr(target);
        if (connect(fd, &remote, sizeof(SockAddrIn)) != 0 && Errno != EINPROGRESS)
        {
            var error = Errno;
            close(fd);
            throw new BenchException($"connect({target}) failed: errno {error}");
        }

        return fd;
    }

    /// <summary>The pending error of a socket (0 once a non-blocking connect succeeded).</summary>
    public static int SocketError(int fd)
    {
        int value = 0;
        var length = sizeof(int);
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 ? value : Errno;
    }

    public static int EpollCreate()
    {
        var epoll = epoll_create1(EPOLL_CLOEXEC);
        return epoll >= 0 ? epoll : throw new BenchException($"epoll_create1 failed: errno {Errno}");
    }

    public static void EpollAdd(int epoll, int fd, uint events, ulong data) => EpollControl(epoll, EPOLL_CTL_ADD, fd, events, data);

    public static void EpollModify(int epoll, int fd, uint events, ulong data) => EpollControl(epoll, EPOLL_CTL_MOD, fd, events, data);

    public static void EpollRemove(int epoll, int fd) => EpollControl(epoll, EPOLL_CTL_DEL, fd, 0, 0);

    /// <summary>Waits for events into <paramref name="buffer"/> (<see cref="EpollEventSize"/> bytes each); returns how many.</summary>
    public static int EpollWait(int epoll, byte[] buffer, int timeoutMs)
    {
        fixed (byte* events = buffer)
        {
            var count = epoll_wait(epoll, events, buffer.Length / EpollEventSize, timeoutMs);
            return count >= 0 ? count : Errno == EINTR ? 0 : throw new BenchException($"epoll_wait failed: errno {Errno}");
        }
    }

    public static (uint Events, ulong Data) EpollEvent(byte[] buffer, int index)
    {
        fixed (byte* events = buffer)
        {
            var entry = events + (index * EpollEventSize);
            return (*(uint*)entry, *(ulong*)(entry + EpollDataOffset));
        }
    }

    /// <summary>read(2): bytes read, 0 at end of stream, -1 with <see cref="Errno"/> set.</summary>
    public static nint Read(int fd, Span<byte> buffer)
    {
        fixed (byte* data = buffer)
        {
            return read(fd, data, buffer.Length);
        }
    }

    /// <summary>write(2): bytes written, or -1 with <see cref="Errno"/> set.</summary>
    public static nint Write(int fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* data = buffer)
        {
            return write(fd, data, buffer.Length);
        }
    }

    public static void Close(int fd) => close(fd);

    /// <summary>sysconf(_SC_CLK_TCK): the unit of the CPU times in /proc/PID/stat.</summary>
    public static long ClockTicksPerSecond => sysconf(2) is var ticks and > 0 ? ticks : 100;

    private static void EpollControl(int epoll, int op, int fd, uint events, ulong data)
    {
        var entry = stackalloc byte[16];
        *(uint*)entry = events;
        *(ulong*)(entry + EpollDataOffset) = data;
        if (epoll_ctl(epoll, op, fd, entry) != 0)
        {
            throw new BenchException($"epoll_ctl({op}, fd {fd}) failed: errno {Errno}");
        }
    }

    private static SockAddrIn SockAddr(IPEndPoint endPoint)
    {
        var address = endPoint.Address.GetAddressBytes();
        return new SockAddrIn
        {
            Family = AF_INET,
            Port = (ushort)IPAddress.HostToNetworkOrder((short)endPoint.Port),
            Address = BitConverter.ToUInt32(address), // already in network order, as the bytes are
        };
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SockAddrIn
    {
        public ushort Family;
        public ushort Port;
        public uint Address;
        public ulong Zero;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setsockopt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getsockopt(int fd, int level, int name, void* value, int* length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, SockAddrIn* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int connect(int fd, SockAddrIn* address, int length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epoll, int op, int fd, void* entry);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epoll, void* events, int maxEvents, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long sysconf(int name);
}
