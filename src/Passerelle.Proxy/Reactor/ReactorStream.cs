using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.Reactor;

/// <summary>
/// A <see cref="ReactorSocket"/> as the relay's streams see it. Reads and writes pass straight to the socket; an
/// empty read is the relay's zero-byte wait. It ends its input (<see cref="StopReading"/>) and its output
/// (<see cref="EndOutput"/>) as the relay's other sockets do.
/// </summary>
internal sealed class ReactorStream(ReactorSocket socket, bool ownsSocket) : Stream, ISocketEnd
{
    public ReactorSocket Socket => socket;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public void StopReading() => socket.Shutdown(Reactor.Libc.ShutRd);

    public void EndOutput() => socket.Shutdown(Reactor.Libc.ShutWr);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        socket.SendAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsSocket)
        {
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
