using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// A connection's duplex pipe as a stream: reads copy out of the input pipe (a zero-byte read waits for data and
/// consumes nothing), writes copy into the output pipe and flush. The pipes stay open when it is disposed: they
/// belong to the connection.
/// </summary>
/// <param name="pipe">The connection's transport.</param>
/// <param name="socket">
/// The connection's socket, when known: a large read waits for what the kernel already holds, so that a big message is
/// passed on in large writes rather than in the transport's 4 KiB receives.
/// </param>
internal sealed class TransportStream(IDuplexPipe pipe, Socket? socket) : Stream, IStoppableReads
{
    /// <summary>Reads smaller than this are passed on at once: small messages never pay for the check.</summary>
    private const int BatchingThreshold = 2048;

    private volatile bool _stopped;

    /// <summary>Ends the pending read and every later one as an end of input, without an exception.</summary>
    public void StopReading()
    {
        _stopped = true;
        pipe.Input.CancelPendingRead();
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var input = pipe.Input;
        while (true)
        {
            if (_stopped)
            {
                return 0;
            }

            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var data = result.Buffer;
            if (result.IsCanceled || _stopped)
            {
                input.AdvanceTo(data.Start);
                if (_stopped)
                {
                    return 0;
                }

                continue;
            }

            if (buffer.IsEmpty || data.IsEmpty)
            {
                input.AdvanceTo(data.Start);
                if (buffer.IsEmpty || result.IsCompleted)
                {
                    return 0;
                }

                continue; // nothing new to show (a read cancelled by someone else): wait again
            }

            if (data.Length >= BatchingThreshold && data.Length < buffer.Length && !result.IsCompleted && MoreIsArriving())
            {
                input.AdvanceTo(data.Start, data.End); // nothing consumed, all examined: wake up with more
                continue;
            }

            var count = (int)Math.Min(data.Length, buffer.Length);
            var taken = data.Slice(0, count);
            taken.CopyTo(buffer.Span);
            input.AdvanceTo(taken.End);
            return count;
        }
    }

    private bool MoreIsArriving()
    {
        try
        {
            return socket?.Available > 0;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var flushed = await pipe.Output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (flushed.IsCompleted)
        {
            throw new IOException("the client's connection is closed");
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        var flushed = await pipe.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flushed.IsCompleted)
        {
            throw new IOException("the client's connection is closed");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // The relay is asynchronous throughout; blocking on a pipe would stall a thread-pool thread.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
        // Every write flushes.
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
