using System.Net;
using System.Net.Sockets;
using Passerelle.Proxy.Reactor;

namespace Passerelle.Proxy.Tests.Reactor;

/// <summary>Real loopback connections for the splice tests: one end adopted by a reactor, the other a plain .NET socket.</summary>
internal static class Loopback
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>A connection whose local end is handed over to a reactor; the peer stays a .NET socket.</summary>
    public static async Task<(ReactorSocket Adopted, Socket Peer)> AdoptedPairAsync(Action<Socket, Socket>? configure = null,
        EpollReactor? reactor = null)
    {
        Assert.True(Reactors.IsAvailable, "the epoll reactor is available on Linux");
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var local = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync();
        await local.ConnectAsync(listener.LocalEndPoint!);
        var peer = await accepting;
        configure?.Invoke(local, peer);
        return (Reactors.Adopt(local, reactor), peer);
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
