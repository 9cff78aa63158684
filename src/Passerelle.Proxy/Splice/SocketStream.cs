using System.Net.Sockets;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// A connected socket as the relay uses it. A relay reads after a zero-byte wait has said that bytes are there, and
/// writes into a kernel buffer that almost always has room, so both are tried first as plain non-blocking calls (one
/// system call, nothing allocated or queued) and go through the asynchronous socket machinery only when the kernel
/// says "would block". Sends that never wait also never create the socket's cached send state, which an idle
/// WebSocket would otherwise hold for its whole life.
/// </summary>
internal sealed class SocketStream : SocketEndStream
{
    private readonly bool _ownsSocket;

    public SocketStream(Socket socket, bool ownsSocket)
    {
        Socket = socket;
        _ownsSocket = ownsSocket;
        socket.Blocking = false;
    }

    private Socket Socket { get; }

    /// <summary>Ends a pending or later read as an end of input (no exception): the other side has ended the WebSocket.</summary>
    public override void StopReading() => StopReading(Socket);

    /// <summary>Sends FIN: the peer reads the end of its input, and may still answer.</summary>
    public override void EndOutput()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already gone: the other direction ends on its own.
        }
    }

    /// <summary>Ends <paramref name="socket"/>'s input, so that a read waiting on it returns 0.</summary>
    public static void StopReading(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: its reads have ended.
        }
    }

    /// <summary>
    /// An empty <paramref name="buffer"/> waits for bytes without taking any (the zero-byte wait). A wait or read that
    /// has to be queued is the socket's own operation, with nothing of this stream's kept while it is pending; its
    /// failures are the socket's <see cref="SocketException"/>s.
    /// </summary>
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!buffer.IsEmpty)
        {
            var read = Socket.Receive(buffer.Span, SocketFlags.None, out var error);
            if (error == SocketError.Success)
            {
                return ValueTask.FromResult(read);
            }

            if (error != SocketError.WouldBlock)
            {
                return ValueTask.FromException<int>(Failure(error));
            }
        }

        return Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        SendAllAsync(Socket, buffer, cancellationToken);

    /// <summary>
    /// Sends all of <paramref name="buffer"/> on a non-blocking <paramref name="socket"/>: straight into the kernel's
    /// buffer when it has room, asynchronously for what it cannot take yet. Failures are <see cref="IOException"/>s.
    /// </summary>
    public static ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var sent = socket.Send(buffer.Span, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return SendRestAsync(socket, buffer, cancellationToken);
            }

            if (error != SocketError.Success)
            {
                return ValueTask.FromException(Failure(error));
            }

            buffer = buffer[sent..];
        }

        return ValueTask.CompletedTask;
    }

    private static async ValueTask SendRestAsync(Socket socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                buffer = buffer[await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false)..];
            }
        }
        catch (SocketException e)
        {
            throw new IOException(e.Message, e);
        }
    }

    private static IOException Failure(SocketError error)
    {
        var inner = new SocketException((int)error);
        return new IOException(inner.Message, inner);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsSocket)
        {
            Socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
