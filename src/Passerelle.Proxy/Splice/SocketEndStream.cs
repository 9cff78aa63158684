namespace Passerelle.Proxy.Splice;

/// <summary>
/// A relay side over a socket of its own, as a <see cref="Stream"/>: the relay uses the memory-based asynchronous
/// read and write, which each kind of socket defines (<see cref="SocketStream"/> over .NET's, the reactors'
/// <see cref="Reactor.ReactorStream"/>); everything else a stream has is defined here once, from them. Writes go
/// straight to the kernel: there is nothing to flush.
/// </summary>
internal abstract class SocketEndStream : Stream, IStoppableReads
{
    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Ends a pending or later read as an end of input (no exception): the other side has ended the WebSocket.</summary>
    public abstract void StopReading();

    /// <summary>Sends FIN, the half-close a client's FIN is passed on as: the peer reads the end and may still answer.</summary>
    public abstract void EndOutput();

    public abstract override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

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
}
