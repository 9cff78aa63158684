using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.Reactor;

/// <summary>
/// A <see cref="ReactorSocket"/> as the relay's streams see it. Reads and writes pass straight to the socket; an
/// empty read is the relay's zero-byte wait. It ends its input (<see cref="StopReading"/>) and its output
/// (<see cref="EndOutput"/>) as the relay's other sockets do.
/// </summary>
internal sealed class ReactorStream(ReactorSocket socket, bool ownsSocket) : SocketEndStream
{
    /// <summary>The socket, for the relay's splice of large messages (<see cref="Tunnels.TunnelStream.SpliceFromAsync"/>).</summary>
    public ReactorSocket Socket => socket;

    public override void StopReading() => socket.Shutdown(Reactor.Libc.ShutRd);

    public override void EndOutput() => socket.Shutdown(Reactor.Libc.ShutWr);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.SendAsync(buffer, cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsSocket)
        {
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
