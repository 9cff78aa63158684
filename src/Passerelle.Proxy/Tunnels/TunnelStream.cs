using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Passerelle.Proxy.Reactor;

namespace Passerelle.Proxy.Tunnels;

/// <summary>
/// One side of a proxied WebSocket as the forwarder's copy loops see it: the client's upgraded stream, into which
/// the backend's frames are written, or the backend's, into which the client's frames are written. Reads pass
/// through untouched. Writes pass through too, while a <see cref="FrameBoundaryTracker"/> follows the frames
/// they carry, so that <see cref="SendCloseAsync"/> can put a Close frame between two frames, never inside one.
/// From the Close on, writes are discarded: a peer must receive nothing after a Close (RFC 6455 §5.5.1). They
/// are still followed, so that the Close the other peer answers with is noticed (<see cref="CloseSeen"/>).
/// </summary>
internal sealed class TunnelStream : Stream
{
    private const int Open = 0;
    private const int ClosePending = 1;
    private const int Closed = 2;

    /// <summary>Below this, the rest of a frame is copied: a splice costs two system calls and a pipe's pages.</summary>
    private const int SpliceThreshold = 16 * 1024;

    private readonly Stream _inner;

    // Held by every write and flush, and by the Close: one writer at a time on the inner stream, and the frame
    // tracker only ever read or changed under it.
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    // Held to read or change the Close's state. The write lock's object serves as its monitor: SemaphoreSlim locks an
    // inner object of its own, so the two never contend, and each side of an open WebSocket holds one object less.
    private object StateLock => _writeLock;
    private LazySignal _closeSeen;
    private LazySignal _inputEnded;
    private FrameBoundaryTracker _frames;
    private volatile int _state;
    private byte[]? _closeFrame;
    private TaskCompletionSource<bool>? _closeWritten;
    private volatile Func<Task?>? _lingerAtEnd;

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

    /// <summary>True once the gateway's Close was written, or a Close of the peer stood for it.</summary>
    public bool CloseSent => _closeWritten is { Task.IsCompletedSuccessfully: true } written && written.Task.Result;

    /// <summary>Completes when a Close frame has been written through this side (or it is disposed).</summary>
    public Task CloseSeen => _closeSeen.Task;

    /// <summary>Completes when reading this side reached its end or failed (or it is disposed).</summary>
    public Task InputEnded => _inputEnded.Task;

    /// <summary>
    /// Waits until the input has bytes to read, without a buffer and without taking any (a zero-byte read of the
    /// inner stream, which does not report the end of the input: the read that follows does).
    /// </summary>
    public ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken) => _inner.ReadAsync(Memory<byte>.Empty, cancellationToken);

    /// <summary>
    /// When a read reaches the end of this side's input, the end is reported only once the task
    /// <paramref name="until"/> returns (if any) has completed, or the read is cancelled. The gateway uses it to
    /// keep a client's connection a little longer, for the client to answer the Close, although the backend has
    /// already closed its own: Kestrel would otherwise close a socket with unread data (a client still sending),
    /// which resets it (RST) and can make the client lose the Close frame still in its receive buffer.
    /// </summary>
    public void LingerAtEnd(Func<Task?> until) => _lingerAtEnd = until;

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
    /// between two frames and no write is in progress: <see cref="RequestClose"/>, then <see cref="CompleteCloseAsync"/>.
    /// </summary>
    public Task<bool> SendCloseAsync(WebSocketCloseStatus status, string reason, CancellationToken cancellationToken) =>
        RequestClose(status, reason) ? CompleteCloseAsync(cancellationToken) : Task.FromResult(false);

    /// <summary>
    /// Asks for a Close frame with <paramref name="status"/> and <paramref name="reason"/>, without writing
    /// anything yet: from now on, what is written through this side stops at the next frame boundary, where the
    /// Close goes. Whatever a peer sends after the Close was asked for therefore comes after it. Returns false if
    /// this side was already closing.
    /// </summary>
    public bool RequestClose(WebSocketCloseStatus status, string reason)
    {
        var frame = CloseFrame.Build(status, reason, masked: TowardsServer);
        lock (StateLock)
        {
            if (_state != Open)
            {
                return false;
            }

            _closeFrame = frame;
            _closeWritten = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _state = ClosePending;
            return true;
        }
    }

    /// <summary>
    /// Writes the Close asked for with <see cref="RequestClose"/> as soon as the direction is between two frames
    /// and no write is in progress: at once if it is, else at the end of the frame being written (which the copy
    /// loop's next writes complete). A Close that the peer behind this direction had already sent (a close
    /// handshake it started) stands for the gateway's: no second one follows it. Returns true once the Close is
    /// written (or stood for), false if it could not be before <paramref name="cancellationToken"/> fired, or if
    /// the stream broke or was disposed first.
    /// </summary>
    public Task<bool> CompleteCloseAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource<bool>? written;
        lock (StateLock)
        {
            written = _closeWritten;
        }

        return written is null ? Task.FromResult(false) : SendPendingCloseAsync(written, cancellationToken);
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

    /// <summary>
    /// True when the rest of the frame being written through this side is long enough to be worth passing on from
    /// <paramref name="from"/> by splice (<see cref="SpliceFromAsync"/>): both sides are reactor sockets and this side
    /// is not closed. Called by the one copy loop that writes through this side, between its writes.
    /// </summary>
    public bool SplicesFrom(TunnelStream from) =>
        _frames.PayloadRemaining >= SpliceThreshold && _state != Closed && _inner is ReactorStream && from._inner is ReactorStream &&
        SplicePipe.Enabled;

    /// <summary>
    /// Passes the rest of the current frame's payload from <paramref name="from"/> to this side through a kernel pipe,
    /// without copying it into the gateway; the frame tracker counts it as a write would, and a Close asked for
    /// meanwhile goes out right after the frame's last byte. Returns at the frame's end, at the end of
    /// <paramref name="from"/>'s input (the copy loop's next read reports it), or at once when no pipe can be had
    /// (the copy loop copies instead). Never takes a byte of the next frame: only the payload's length is asked for.
    /// </summary>
    public async Task SpliceFromAsync(TunnelStream from, WebSocketTunnel tunnel, CancellationToken readToken, CancellationToken writeToken)
    {
        if (SplicePipe.Rent() is not { } pipe)
        {
            return;
        }

        var source = ((ReactorStream)from._inner).Socket;
        var target = ((ReactorStream)_inner).Socket;
        try
        {
            while (_frames.PayloadRemaining > 0 && _state != Closed)
            {
                int moved;
                try
                {
                    moved = await source.ReceiveIntoAsync(pipe, (int)Math.Min(_frames.PayloadRemaining, (ulong)pipe.Size), readToken)
                        .ConfigureAwait(false);
                }
                catch
                {
                    from.NoteInputEnded();
                    throw;
                }

                if (moved == 0)
                {
                    return;
                }

                tunnel.Touch();
                await _writeLock.WaitAsync(writeToken).ConfigureAwait(false);
                try
                {
                    if (_state == Closed)
                    {
                        return; // disposed meanwhile (a Close goes out only between frames): the pipe is closed with what it holds
                    }

                    await target.SendFromAsync(pipe, writeToken).ConfigureAwait(false);
                    _frames.SkipPayload((ulong)moved);
                    SplicePipe.Count(moved);
                    if (_state == ClosePending && _frames.AtBoundary)
                    {
                        await WriteCloseLockedAsync(writeToken).ConfigureAwait(false);
                    }
                }
                finally
                {
                    _writeLock.Release();
                }
            }
        }
        finally
        {
            pipe.Return();
        }
    }

    private void NoteInputEnded() => _inputEnded.Set();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = _state;
            var pass = Track(state, buffer.Span);
            if (pass > 0)
            {
                await _inner.WriteAsync(buffer[..pass], cancellationToken).ConfigureAwait(false);
            }

            // Also when the Close was asked for while this write was in progress.
            if (_state == ClosePending && _frames.AtBoundary)
            {
                await WriteCloseLockedAsync(cancellationToken).ConfigureAwait(false);
                FollowDiscarded(buffer.Span[pass..]);
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
            var pass = Track(state, buffer);
            if (pass > 0)
            {
                _inner.Write(buffer[..pass]);
            }

            if (_state == ClosePending && _frames.AtBoundary)
            {
                WriteCloseLocked();
                FollowDiscarded(buffer[pass..]);
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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _inputEnded.Set();
            throw;
        }

        // A zero-byte read (the copy loop's wait for data) returns 0 without meaning the end.
        if (read == 0 && !buffer.IsEmpty)
        {
            _inputEnded.Set();
            if (_lingerAtEnd?.Invoke() is { } until)
            {
                await until.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Synchronous reads pass through; they report the end of the input but never linger.</summary>
    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        if (read == 0 && !buffer.IsEmpty)
        {
            _inputEnded.Set();
        }

        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

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
    /// a Close is pending, those that end the current frame (none at a boundary); none once closed.
    /// </summary>
    private int Track(int state, ReadOnlySpan<byte> buffer)
    {
        switch (state)
        {
            case Open:
                _frames.Advance(buffer);
                NoteClose();
                return buffer.Length;
            case ClosePending:
                var pass = _frames.AdvanceToBoundary(buffer);
                NoteClose();
                return pass;
            default:
                FollowDiscarded(buffer);
                return 0;
        }
    }

    /// <summary>Bytes discarded after the Close are still followed, to notice the Close that answers it.</summary>
    private void FollowDiscarded(ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty && !_frames.SawClose)
        {
            _frames.Advance(bytes);
            NoteClose();
        }
    }

    private void NoteClose()
    {
        if (_frames.SawClose)
        {
            _closeSeen.Set();
        }
    }

    private async ValueTask WriteCloseLockedAsync(CancellationToken cancellationToken)
    {
        var written = _closeWritten!;
        if (ClosedByPeer(written))
        {
            return;
        }

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
        if (ClosedByPeer(written))
        {
            return;
        }

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

    /// <summary>At a boundary after the peer's own Close: this direction is closed already.</summary>
    private bool ClosedByPeer(TaskCompletionSource<bool> written)
    {
        if (!_frames.SawClose)
        {
            return false;
        }

        _state = Closed;
        written.TrySetResult(true);
        return true;
    }

    private void GiveUpClose()
    {
        TaskCompletionSource<bool>? pending;
        lock (StateLock)
        {
            _state = Closed;
            pending = _closeWritten;
        }

        pending?.TrySetResult(false);
        _closeSeen.Set();
        _inputEnded.Set();
    }
}
