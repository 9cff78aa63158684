using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Passerelle.Proxy.Reactor;

/// <summary>
/// The gateway's epoll reactors (one per processor, up to 8), and the hand-over of a connected .NET
/// <see cref="Socket"/> to them once its WebSocket is upgraded. The runtime's own socket engine registers every
/// socket it has waited on in its epoll set, keyed by descriptor number; a socket handed over is taken out of that set
/// first, then given a second descriptor and its <see cref="Socket"/> closed, so that from then on only a reactor
/// watches it and nothing of the runtime's socket state stays behind. Linux only; elsewhere, or when the runtime's
/// epoll set cannot be found, <see cref="IsAvailable"/> is false and the relay keeps using .NET sockets.
/// </summary>
internal static class Reactors
{
    private static readonly Lazy<EpollReactor[]?> Threads = new(Start);
    private static int[]? s_runtimeEpolls;
    private static int s_next;

    /// <summary>Turned off with the environment variable <c>PASSERELLE_EPOLL_RELAY=0</c>, or by tests.</summary>
    internal static bool Enabled { get; set; } = Environment.GetEnvironmentVariable("PASSERELLE_EPOLL_RELAY") != "0";

    public static bool IsAvailable => Enabled && RuntimeEpolls is not null;

    /// <summary>The reactors' epoll descriptors (for tests that read what each epoll set watches).</summary>
    internal static IReadOnlyCollection<int> ReactorDescriptors => Threads.Value?.Select(r => r.Descriptor).ToArray() ?? [];

    /// <summary>A reactor for a new connection, in turn; both sides of a WebSocket go to the same one.</summary>
    public static EpollReactor Pick()
    {
        var reactors = Threads.Value ?? throw new PlatformNotSupportedException("No epoll reactor on this platform.");
        return reactors[(int)((uint)Interlocked.Increment(ref s_next) % (uint)reactors.Length)];
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/> from a new socket of <paramref name="reactor"/> (or of the next one):
    /// no .NET socket at all, so nothing to hand over once the WebSocket is upgraded. Fails as .NET's connect does
    /// (<see cref="SocketException"/>, <see cref="OperationCanceledException"/>).
    /// </summary>
    public static async ValueTask<ReactorSocket> ConnectAsync(IPEndPoint endpoint, EpollReactor? reactor, CancellationToken cancellationToken)
    {
        reactor ??= Pick();
        var fd = Open(endpoint);
        var socket = reactor.Adopt(fd, connecting: true);
        try
        {
            await socket.CompleteConnectAsync(cancellationToken).ConfigureAwait(false);

            // The kernel went back to quick ACKs when the connect completed: the backend's answer (the 101) would be
            // acknowledged by a segment of its own, where the client's first message can carry the ACK. The socket
            // is nobody else's yet, so its descriptor is still this one.
            DelayAcks(fd);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A non-blocking TCP socket (no Nagle delay: handshakes and frames go out at once) with its connect started.</summary>
    private static unsafe int Open(IPEndPoint endpoint)
    {
        var address = endpoint.Serialize(); // the platform's sockaddr
        var fd = Libc.Socket((int)address.Family, Libc.SockStream | Libc.SockNonBlocking | Libc.CloseOnExec, 0);
        if (fd < 0)
        {
            throw Libc.SocketFailure(Marshal.GetLastPInvokeError());
        }

        var one = 1;
        Libc.SetSockOpt(fd, Libc.IpProtoTcp, Libc.TcpNoDelay, &one, sizeof(int));

        // Out of quick-ACK mode before the connect: the handshake's last ACK then goes with the request, sent as soon
        // as the connect completes, instead of in a segment of its own (HAProxy's tcp-smart-connect).
        DelayAcks(fd);
        fixed (byte* bytes = address.Buffer.Span)
        {
            if (Libc.Connect(fd, bytes, address.Size) == 0 || Marshal.GetLastPInvokeError() == Libc.EInProgress)
            {
                return fd;
            }
        }

        var error = Marshal.GetLastPInvokeError();
        Libc.Close(fd);
        throw Libc.SocketFailure(error);
    }

    /// <summary>
    /// Moves <paramref name="socket"/> (connected or listening, with no operation pending) to <paramref name="reactor"/>
    /// (or the next one) and closes the .NET socket.
    /// </summary>
    public static ReactorSocket Adopt(Socket socket, EpollReactor? reactor = null)
    {
        var runtimeEpolls = RuntimeEpolls ?? throw new PlatformNotSupportedException("No epoll reactor on this platform.");
        socket.Blocking = false; // O_NONBLOCK belongs to the open file, which the copy shares: a reactor's calls never block
        var fd = (int)socket.Handle;
        var copy = Libc.FcntlInt(fd, Libc.DupCloseOnExec, 0);
        if (copy < 0)
        {
            throw Libc.Failure(Marshal.GetLastPInvokeError());
        }

        foreach (var runtimeEpoll in runtimeEpolls)
        {
            Libc.EpollDelete(runtimeEpoll, fd); // ENOENT: never waited on, or not this set
        }

        socket.Dispose(); // no operation pending: a plain close(2) of the first descriptor, the connection stays
        return (reactor ?? Pick()).Adopt(copy); // on failure it has closed the copy
    }

    /// <summary>
    /// Every epoll set of the process that is not a reactor's: the runtime's socket engines (one or more), created
    /// together the first time the process waits on a socket. Null until then (or where there is no epoll): looked for
    /// again on the next call, and kept once found.
    /// </summary>
    private static int[]? RuntimeEpolls
    {
        get
        {
            if (Volatile.Read(ref s_runtimeEpolls) is { } found)
            {
                return found;
            }

            if (Threads.Value is not { } reactors)
            {
                return null;
            }

            var own = reactors.Select(r => r.Descriptor).ToHashSet();
            var runtime = new List<int>();
            foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                if (int.TryParse(Path.GetFileName(entry), out var fd) && !own.Contains(fd) &&
                    new FileInfo(entry).LinkTarget == "anon_inode:[eventpoll]")
                {
                    runtime.Add(fd);
                }
            }

            if (runtime.Count == 0)
            {
                return null;
            }

            Interlocked.CompareExchange(ref s_runtimeEpolls, [.. runtime], null);
            return s_runtimeEpolls;
        }
    }

    private static EpollReactor[]? Start()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var reactors = new EpollReactor[Math.Clamp(Environment.ProcessorCount, 1, 8)];
        for (var i = 0; i < reactors.Length; i++)
        {
            reactors[i] = EpollReactor.Start($"passerelle-epoll-{i}");
        }

        return reactors;
    }

    /// <summary>Leaves the kernel's quick-ACK mode: what comes in is acknowledged by what goes out, or after the delayed-ACK time.</summary>
    private static unsafe void DelayAcks(int fd)
    {
        var zero = 0;
        Libc.SetSockOpt(fd, Libc.IpProtoTcp, Libc.TcpQuickAck, &zero, sizeof(int));
    }
}
