using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Passerelle.Proxy.Reactor;

/// <summary>The few Linux calls the reactors make themselves: epoll, plain socket calls on descriptors, and splice through pipes.</summary>
internal static unsafe partial class Libc
{
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;
    public const int CloseOnExec = 0x80000; // EPOLL_CLOEXEC, SOCK_CLOEXEC
    public const int DupCloseOnExec = 1030; // F_DUPFD_CLOEXEC
    public const int MsgNoSignal = 0x4000;
    public const int MsgPeek = 2;
    public const int ShutRd = 0;
    public const int ShutWr = 1;
    public const int ShutRdWr = 2;
    public const int EIntr = 4;
    public const int EAgain = 11;
    public const int EInProgress = 115;
    public const int EConnAborted = 103;
    public const int SockStream = 1;
    public const int SockNonBlocking = 0x800;
    public const int SolSocket = 1;
    public const int SoError = 4;
    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;
    public const int TcpDeferAccept = 9;
    public const int TcpQuickAck = 12;
    public const int SetPipeSize = 1031; // F_SETPIPE_SZ
    public const uint SpliceMove = 1;
    public const uint SpliceNonBlocking = 2;

    /// <summary>struct epoll_event is packed on x86-64 (12 bytes) and naturally aligned elsewhere (16 bytes).</summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static readonly int EventDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, byte* evt);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept(int fd, byte* address, int* length, int flags);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, byte* address, int length);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, byte* address, int* length);

    [LibraryImport("libc", EntryPoint = "getpeername", SetLastError = true)]
    public static partial int GetPeerName(int fd, byte* address, int* length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, int* value, int length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, int* value, int* length);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe(int* fds, int flags);

    /// <summary>splice(2) between a socket and a pipe, from and to the current position (no offsets).</summary>
    [LibraryImport("libc", EntryPoint = "splice", SetLastError = true)]
    public static partial nint Splice(int fdIn, long* offsetIn, int fdOut, long* offsetOut, nuint length, uint flags);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>fcntl(fd, F_DUPFD_CLOEXEC, 0): a second descriptor for the same socket, not inherited by child processes.</summary>
    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int FcntlInt(int fd, int command, int argument);

    /// <summary>epoll_ctl with an event of <paramref name="events"/> carrying <paramref name="data"/>.</summary>
    public static int EpollCtl(int epfd, int op, int fd, uint events, ulong data)
    {
        var evt = stackalloc byte[16];
        *(uint*)evt = events;
        *(ulong*)(evt + EventDataOffset) = data;
        return EpollCtl(epfd, op, fd, evt);
    }

    /// <summary>Takes <paramref name="fd"/> out of the epoll set <paramref name="epfd"/>.</summary>
    public static int EpollDelete(int epfd, int fd) => EpollCtl(epfd, EpollCtlDel, fd, null);

    /// <summary>The failure of the last call as the exception a socket operation throws for it.</summary>
    public static IOException Failure(int errno)
    {
        var inner = SocketFailure(errno);
        return new IOException(inner.Message, inner);
    }

    /// <summary>An errno as the <see cref="SocketException"/> .NET's sockets report it with.</summary>
    public static SocketException SocketFailure(int errno) => new((int)(errno switch
    {
        104 => SocketError.ConnectionReset,
        32 => SocketError.Shutdown, // EPIPE: the peer or this side ended the direction
        107 => SocketError.NotConnected,
        110 => SocketError.TimedOut,
        103 => SocketError.ConnectionAborted,
        111 => SocketError.ConnectionRefused,
        113 => SocketError.HostUnreachable,
        101 => SocketError.NetworkUnreachable,
        99 => SocketError.AddressNotAvailable,
        24 or 23 => SocketError.TooManyOpenSockets, // EMFILE, ENFILE
        9 => SocketError.OperationAborted, // EBADF: closed under the call
        _ => SocketError.SocketError,
    }));
}
