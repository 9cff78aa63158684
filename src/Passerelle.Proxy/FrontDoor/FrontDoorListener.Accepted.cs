using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Passerelle.Proxy.Reactor;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// Connections accepted on a reactor: looked at with plain system calls on the descriptor. A WebSocket handshake is
/// served on a reactor socket without a .NET <see cref="Socket"/> ever being made for the connection (which would
/// cost some ten system calls, a finalizable handle and .NET's socket state per WebSocket, only to be taken apart at
/// the 101); anything else, and a client that has not spoken yet, gets a .NET socket and the usual path.
/// </summary>
internal sealed partial class FrontDoorListener
{
    /// <summary>Looks at one connection accepted on a reactor; its slot is given back here unless it was passed on.</summary>
    private void ClassifyAccepted(int fd)
    {
        var owned = true; // false once the descriptor belongs to something else (a .NET socket, a reactor socket)
        var passedOn = false;
        try
        {
            var buffer = ArrayPool<byte>.Shared.Rent(UpgradeHead.MaxLength);
            UpgradeHead? head;
            try
            {
                var peeked = Receive(fd, buffer, UpgradeHead.MaxLength, Libc.MsgPeek, out var errno);
                if (peeked < 0 && errno == Libc.EAgain)
                {
                    // Not a word yet (accepting is deferred until the first bytes, but only for a second or so).
                    owned = false; // the handle's from here on
                    var waiting = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
                    passedOn = true;
                    _ = ClassifyGuardedAsync(waiting);
                    return;
                }

                if (peeked <= 0)
                {
                    return; // reset, or connected and left without a word
                }

                head = UpgradeHead.TryParse(buffer.AsSpan(0, peeked), out var notTaken);
                if (head is null)
                {
                    owned = false; // the handle's from here on
                    var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
                    passedOn = HandToKestrel(socket, notTaken!);
                    if (!passedOn)
                    {
                        socket.Dispose();
                    }

                    return;
                }

                // Take the head off the socket (it is all there: it was just peeked); what follows it is the WebSocket's.
                if (Receive(fd, buffer, head.Length, 0, out _) != head.Length)
                {
                    return;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var (local, remote) = (EndPointOf(fd, peer: false), EndPointOf(fd, peer: true));
            var reactor = Reactors.Pick();
            owned = false; // the reactor closes it, should registering fail
            var exchange = new UpgradeExchange(reactor.Adopt(fd), local, remote, head, Interlocked.Increment(ref _ids))
            {
                OnDetachedEnd = _endDetached,
            };
            passedOn = true;
            _ = ServeAsync(exchange);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            // Reset before it could be looked at.
        }
        catch (Exception e)
        {
            Log.ClassifyFailed(_logger, e);
        }
        finally
        {
            if (!passedOn)
            {
                if (owned)
                {
                    Libc.Close(fd);
                }

                _slots.Release();
            }
        }
    }

    private static unsafe int Receive(int fd, byte[] buffer, int count, int flags, out int errno)
    {
        while (true)
        {
            fixed (byte* bytes = buffer)
            {
                var read = (int)Libc.Recv(fd, bytes, (nuint)count, flags);
                errno = read < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno != Libc.EIntr)
                {
                    return read;
                }
            }
        }
    }

    /// <summary>The connection's local or remote address and port, read from the kernel's sockaddr (IPv4, or IPv6 on a dual-stack port).</summary>
    private static unsafe (IPAddress Address, int Port) EndPointOf(int fd, bool peer)
    {
        const int Capacity = 28; // sockaddr_in6
        var raw = stackalloc byte[Capacity];
        var length = Capacity;
        if ((peer ? Libc.GetPeerName(fd, raw, &length) : Libc.GetSockName(fd, raw, &length)) != 0)
        {
            throw Libc.SocketFailure(Marshal.GetLastPInvokeError());
        }

        var port = System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(raw + 2, 2));
        return *(ushort*)raw == 10 // AF_INET6: port, flow info, 16 address bytes, scope id
            ? (new IPAddress(new ReadOnlySpan<byte>(raw + 8, 16), *(uint*)(raw + 24)), port)
            : (new IPAddress(*(uint*)(raw + 4)), port); // AF_INET: the address as it is in memory, network order
    }
}
