using System.Net.WebSockets;
using System.Runtime.CompilerServices;

namespace Passerelle.Proxy.Tunnels;

/// <summary>
/// One side of a proxied WebSocket as the forwarder's copy loops see it: the client's upgraded stream, into which
/// the backend's frames are written, or the backend's, into which the client's frames are written. Reads pass
/// through untouched. Writes pass through too, while a <see cref="FrameBoundaryTracker"/> follows the frames
/// they carry, so that <see cref="SendCloseAsync"/> can put a Close frame between two frames, never inside one.
/// From the Close on, writes are discarded: a peer must receive nothing after a Close (RFC 6455 §5.5.1).
/// </summary>
internal sealed class TunnelStream : Stream
{
    private const int Open = 0;
    private const int ClosePending = 1;
    private const int Closed = 2;

    private readonly Stream _inner;

    // Held by every write and flush, and by the Close: one writer at a time on the inner stream, and the frame
    // tracker only ever read or changed under it.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly object _stateLock = new();
    private FrameBoundaryTracker _frames;
    private volatile int _state;
    private byte[]? _closeFrame;
    private TaskCompletionSource<bool>? _closeWritten;

    /// <param name="inner">The upgraded stream of one side.</param>
    /// <param name="towardsServer">
    /// True for the backend's side: the gateway then speaks as a client and masks its Close frame.
    /// </param>
    public TunnelStream(Stream inner, bool towardsServer)
    {
        _inner = inner;
        TowardsServer = towardsServer;
    }

    public bool TowardsServer { get; }

    /// <summary>True once the Close is written (or the stream disposed): writes are discarded from then on.</summary>
    public bool IsClosed => _state == Closed;

    /// <summary>True once a Close was asked for, sent or not yet.</summary>
    public bool IsClosing => _state != Open;

    public override bool CanRead => _inner.CanRead;

    public override bool CanWrite => _inner.CanWrite;

    public override bool CanSeek => false;

    public override bool CanTimeout => _inner.CanTimeout;

    public override int ReadTimeout
    {
        get => _inner.ReadTimeout;
        set => _inner.ReadTimeout = value;
    }

    public override int WriteTimeout
    {
        get => _inner.WriteTimeout;
        set => _inner.WriteTimeout = value;
    }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Writes a Close frame with <paramref name="status"/> and <paramref name="reason"/> as soon as the direction is
    /// between two frames and no write is in progress: at once if it is, else at the end of the frame being
    /// written (which the copy loop's next writes complete). Returns true once it is written, false if it could not
    /// be before <paramref name="cancellationToken"/> fired, if the stream broke or was disposed first, or if this
    /// side was already closing.
    /// </summary>
    public Task<bool> SendCloseAsync(WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        var frame = CloseFrame.Build(status, reason, masked: TowardsServer);
        TaskCompletionSource<bool> written;
        lock (_stateLock)
        {
            if (_state != Open)
            {
                return Task.FromResult(false);
            }

            written = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _closeFrame = frame;
            _closeWritten = written;
            _state = ClosePending;
        }

        return SendPendingCloseAsync(written, cancellationToken);
    }

    private async Task<bool> SendPendingCloseAsync(TaskCompletionSource<bool> written, CancellationToken cancellationToken)
    {
        try
        {
            // Waiting for the lock also waits for a write in progress: if that write ends a frame it sends the Close
            // itself, otherwise the Close goes out here if the stream is between frames, or with the write that
            // completes the current frame.
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_state == ClosePending && _frames.AtBoundary)
                {
                    await WriteCloseLockedAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _writeLock.Release();
            }

            return await written.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Cancelled (the Close stays pending; the caller gives up on this connection) or the write failed.
            return written.Task.IsCompletedSuccessfully && written.Task.Result;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = _state;
            if (state == Closed)
            {
                return;
            }

            var pass = Track(state, buffer.Span);
            if (pass > 0)
            {
                await _inner.WriteAsync(buffer[..pass], cancellationToken).ConfigureAwait(false);
            }

            // Also when the Close was asked for while this write was in progress.
            if (_state == ClosePending && _frames.AtBoundary)
            {
                await WriteCloseLockedAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _writeLock.Wait();
        try
        {
            var state = _state;
            if (state == Closed)
            {
                return;
            }

            var pass = Track(state, buffer);
            if (pass > 0)
            {
                _inner.Write(buffer[..pass]);
            }

            if (_state == ClosePending && _frames.AtBoundary)
            {
                WriteCloseLocked();
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override void Flush()
    {
        _writeLock.Wait();
        try
        {
            _inner.Flush();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(Span<byte> buffer) => _inner.Read(buffer);

    public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            GiveUpClose();
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        GiveUpClose();
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// How many bytes of a write go to the peer, following the frames they carry: all of them while open; while
    /// a Close is pending, those that end the current frame (none at a boundary), the rest being discarded.
    /// </summary>
    private int Track(int state, ReadOnlySpan<byte> buffer)
    {
        if (state == Open)
        {
            _frames.Advance(buffer);
            return buffer.Length;
        }

        return _frames.AdvanceToBoundary(buffer);
    }

    private async ValueTask WriteCloseLockedAsync(CancellationToken cancellationToken)
    {
        var written = _closeWritten!;
        try
        {
            await _inner.WriteAsync(_closeFrame, cancellationToken).ConfigureAwait(false);
            await _inner.FlushAsync(cancellationToken).ConfigureAwait(false);
            _state = Closed;
            written.TrySetResult(true);
        }
        catch
        {
            _state = Closed;
            written.TrySetResult(false);
            throw;
        }
    }

    private void WriteCloseLocked()
    {
        var written = _closeWritten!;
        try
        {
            _inner.Write(_closeFrame);
            _inner.Flush();
            _state = Closed;
            written.TrySetResult(true);
        }
        catch
        {
            _state = Closed;
            written.TrySetResult(false);
            throw;
        }
    }

    private void GiveUpClose()
    {
        TaskCompletionSource<bool>? pending;
        lock (_stateLock)
        {
            _state = Closed;
            pending = _closeWritten;
        }

        pending?.TrySetResult(false);
    }
}
