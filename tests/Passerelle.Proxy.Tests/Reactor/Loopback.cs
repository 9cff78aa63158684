using System.Net;
using System.Net.Sockets;
using Passerelle.Proxy.Reactor;

namespace Passerelle.Proxy.Tests.Reactor;

/// <summary>Real loopback connections for the reactor and relay tests: plain .NET pairs, or one end adopted by a reactor.</summary>
internal static class Loopback
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>A connection whose local end is handed over to a reactor; the peer stays a .NET socket.</summary>
    public static async Task<(ReactorSocket Adopted, Socket Peer)> AdoptedPairAsync(Action<Socket, Socket>? configure = null,
        EpollReactor? reactor = null)
    {
        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        var (local, peer) = await ConnectedPairAsync();
        configure?.Invoke(local, peer);
        return (Reactors.Adopt(local, reactor), peer);
    }

    /// <summary>A listening socket on 127.0.0.1 and a port of the kernel's choosing.</summary>
    public static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        return listener;
    }

    /// <summary>A connected pair of .NET sockets: the connecting end (no Nagle delay) and the accepted one.</summary>
    public static async Task<(Socket Local, Socket Peer)> ConnectedPairAsync(Socket? listener = null)
    {
        using var own = listener is null ? Listen() : null;
        listener ??= own!;
        var local = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync();
        await local.ConnectAsync(listener.LocalEndPoint!);
        return (local, await accepting);
    }

    public static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Exactly <paramref name="length"/> bytes; fails if the connection ends before.</summary>
    public static async Task<byte[]> ReceiveExactlyAsync(Socket socket, int length)
    {
        var buffer = new byte[length];
        var total = 0;
        while (total < length)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(total)).AsTask().WaitAsync(Deadline);
            Assert.True(read > 0, $"the connection ended after {total} of {length} bytes");
            total += read;
        }

        return buffer;
    }

    /// <summary>Everything until the end of the input (FIN); a reset also counts as the end.</summary>
    public static async Task<byte[]> ReceiveToEndAsync(Socket socket)
    {
        var received = new MemoryStream();
        var buffer = new byte[256 * 1024];
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Deadline);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                read = 0;
            }

            if (read == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, read);
        }
    }
}
