namespace Passerelle.Proxy.Reactor;

/// <summary>
/// A connected, non-blocking socket descriptor served by an <see cref="EpollReactor"/>: reads and writes are plain
/// system calls, tried at once, and wait for the reactor's edge only when the kernel says "would block"; a zero-byte
/// read waits for bytes without a buffer and, once an edge said they are there, without a system call. A waiting
/// read or write resumes on the reactor's thread. Each call holds a reference on the descriptor, so that closing it
/// (<see cref="Dispose"/>) while a call is in progress on another thread closes it after that call: a descriptor
/// number is never used after it could have been given to another connection.
/// </summary>
internal sealed class ReactorSocket : IDisposable
{
    private const int ClosedFlag = 1 << 30;

    private static readonly byte[] PeekTarget = new byte[1]; // what a peek copies is not used: shared

    private readonly EpollReactor _reactor;
    private readonly int _fd;
    private readonly Readiness _read = new();
    private Readiness? _write;
    private int _users; // calls in progress, plus ClosedFlag once disposed
    private bool _readUnconfirmed; // set by a splice; read and written by the one reader
    private int _fdClosed;

    internal ReactorSocket(EpollReactor reactor, int fd, bool connecting)
    {
        _reactor = reactor;
        _fd = fd;
        if (connecting)
        {
            _write = new Readiness(); // the connect's completion is the first write edge: nothing may drop it
        }
    }

    internal EpollReactor Reactor => _reactor;

    /// <summary>The reactor's key for this socket's events: its slot and that slot's generation.</summary>
    internal ulong Id { get; set; }

    private Readiness WriteReadiness => _write ?? Interlocked.CompareExchange(ref _write, new Readiness(), null) ?? _write;

    /// <summary>
    /// Reads into <paramref name="buffer"/>: the bytes read, 0 at the end of the input. An empty buffer waits until
    /// bytes (or the end) are there and returns 0 without taking any.
    /// </summary>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (buffer.IsEmpty)
            {
                if (_read.IsReady)
                {
                    if (!_readUnconfirmed)
                    {
                        return ValueTask.FromResult(0);
                    }

                    // Ready only because a splice could not tell whether it took the last bytes: one peek says.
                    _readUnconfirmed = false;
                    _read.Clear();
                    var peeked = TryReceive(PeekTarget, Libc.MsgPeek, out var peekErrno);
                    if (peeked >= 0)
                    {
                        _read.Set();
                        return ValueTask.FromResult(0);
                    }

                    if (peekErrno == Libc.EIntr)
                    {
                        continue;
                    }

                    if (peekErrno != Libc.EAgain)
                    {
                        return ValueTask.FromException<int>(Libc.Failure(peekErrno));
                    }
                }
            }
            else
            {
                _readUnconfirmed = false;
                _read.Clear();
                var read = TryReceive(buffer.Span, 0, out var errno);
                if (read >= 0)
                {
                    if (read == buffer.Length || read == 0)
                    {
                        _read.Set(); // more may be waiting, or the end is reported again
                    }

                    return ValueTask.FromResult(read);
                }

                if (errno == Libc.EIntr)
                {
                    continue;
                }

                if (errno != Libc.EAgain)
                {
                    return ValueTask.FromException<int>(Libc.Failure(errno));
                }
            }

            if (_read.TryWait(cancellationToken, out var wait))
            {
                return buffer.IsEmpty ? wait : ReceiveAfterAsync(wait, buffer, cancellationToken);
            }
        }
    }

    private async ValueTask<int> ReceiveAfterAsync(ValueTask<int> wait, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        await wait.ConfigureAwait(false);
        return await ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends all of <paramref name="buffer"/>: into the kernel's buffer at once when it has room, the rest as room appears.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            var write = _write;
            write?.Clear();
            var sent = TrySend(buffer.Span, out var errno);
            if (sent >= 0)
            {
                buffer = buffer[(int)sent..];
                continue;
            }

            if (errno == Libc.EIntr)
            {
                continue;
            }

            if (errno != Libc.EAgain)
            {
                return ValueTask.FromException(Libc.Failure(errno));
            }

            if (write is null)
            {
                // The first time this socket's buffer is full: the waiter exists from now on (not ready), and the edge
                // may have come before it did, so the send is tried once more with it in place.
                _ = WriteReadiness;
                continue;
            }

            if (write.TryWait(cancellationToken, out var wait))
            {
                return SendAfterAsync(wait, buffer, cancellationToken);
            }
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask SendAfterAsync(ValueTask<int> wait, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        await wait.ConfigureAwait(false);
        await SendAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves up to <paramref name="count"/> bytes of the input into <paramref name="pipe"/> without copying them into
    /// the process: the bytes moved, 0 at the end of the input. Waits for bytes as <see cref="ReceiveAsync"/> does.
    /// </summary>
    public ValueTask<int> ReceiveIntoAsync(SplicePipe pipe, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            _read.Clear();
            var moved = TrySplice(_fd, pipe.WriteFd, count, out var errno);
            if (moved >= 0)
            {
                // Whether bytes are left cannot be told from the count (the pipe may run out of slots first, or the
                // next frame may be queued behind the payload asked for): ready, to be confirmed before a wait for data.
                _readUnconfirmed = true;
                _read.Set();
                pipe.Buffered += moved;
                return ValueTask.FromResult(moved);
            }

            if (errno == Libc.EIntr)
            {
                continue;
            }

            if (errno != Libc.EAgain)
            {
                return ValueTask.FromException<int>(Libc.Failure(errno));
            }

            if (_read.TryWait(cancellationToken, out var wait))
            {
                return ReceiveIntoAfterAsync(wait, pipe, count, cancellationToken);
            }
        }
    }

    private async ValueTask<int> ReceiveIntoAfterAsync(ValueTask<int> wait, SplicePipe pipe, int count, CancellationToken cancellationToken)
    {
        await wait.ConfigureAwait(false);
        return await ReceiveIntoAsync(pipe, count, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends everything <paramref name="pipe"/> holds, as <see cref="SendAsync"/> sends a buffer.</summary>
    public ValueTask SendFromAsync(SplicePipe pipe, CancellationToken cancellationToken)
    {
        while (pipe.Buffered > 0)
        {
            var write = _write;
            write?.Clear();
            var moved = TrySplice(pipe.ReadFd, _fd, pipe.Buffered, out var errno);
            if (moved >= 0)
            {
                pipe.Buffered -= moved;
                continue;
            }

            if (errno == Libc.EIntr)
            {
                continue;
            }

            if (errno != Libc.EAgain)
            {
                return ValueTask.FromException(Libc.Failure(errno));
            }

            if (write is null)
            {
                _ = WriteReadiness; // as in SendAsync: the waiter exists from now on, and the send is tried once more
                continue;
            }

            if (write.TryWait(cancellationToken, out var wait))
            {
                return SendFromAfterAsync(wait, pipe, cancellationToken);
            }
        }

        return ValueTask.CompletedTask;
    }

    private async ValueTask SendFromAfterAsync(ValueTask<int> wait, SplicePipe pipe, CancellationToken cancellationToken)
    {
        await wait.ConfigureAwait(false);
        await SendFromAsync(pipe, cancellationToken).ConfigureAwait(false);
    }

    private unsafe int TrySplice(int from, int to, int count, out int errno)
    {
        if (!Enter())
        {
            throw new ObjectDisposedException(nameof(ReactorSocket));
        }

        try
        {
            var moved = Libc.Splice(from, null, to, null, (nuint)count, Libc.SpliceMove | Libc.SpliceNonBlocking);
            errno = moved < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
            return (int)moved;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// On a listening socket: the next connection's descriptor (non-blocking), waiting for the reactor's edge when none is queued. Fails as .NET's accept does (<see cref="System.Net.Sockets.SocketException"/>).
    /// </summary>
    public async ValueTask<int> AcceptAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            _read.Clear();
            var fd = TryAccept(out var errno);
            if (fd >= 0)
            {
                _read.Set(); // more may be queued: the next accept tries before it waits
                return fd;
            }

            if (errno is Libc.EIntr or Libc.EConnAborted)
            {
                continue;
            }

            if (errno != Libc.EAgain)
            {
                throw Libc.SocketFailure(errno);
            }

            if (_read.TryWait(cancellationToken, out var wait))
            {
                await wait.ConfigureAwait(false);
            }
        }
    }

    private unsafe int TryAccept(out int errno)
    {
        if (!Enter())
        {
            throw new ObjectDisposedException(nameof(ReactorSocket));
        }

        try
        {
            var fd = Libc.Accept(_fd, null, null, Libc.CloseOnExec | Libc.SockNonBlocking);
            errno = fd < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
            return fd;
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Waits for the connect started on the descriptor (non-blocking, "in progress") to end, and throws its failure as
    /// a <see cref="System.Net.Sockets.SocketException"/>.
    /// </summary>
    internal async ValueTask CompleteConnectAsync(CancellationToken cancellationToken)
    {
        // The socket was registered while connecting, when it reports nothing: its first write edge (EPOLLOUT once
        // established, EPOLLERR/EPOLLHUP once refused) is the connect's end, and SO_ERROR says which.
        if (_write!.TryWait(cancellationToken, out var wait))
        {
            await wait.ConfigureAwait(false);
        }

        if (PendingError() is var error and not 0)
        {
            throw Libc.SocketFailure(error);
        }

        // The connect's waiter is not kept for the connection's life (a WebSocket's may be hours): as on an accepted
        // socket, SendAsync makes one the first time the kernel's buffer is full.
        _write = null;
    }

    private unsafe int PendingError()
    {
        if (!Enter())
        {
            throw new ObjectDisposedException(nameof(ReactorSocket));
        }

        try
        {
            int error = 0, length = sizeof(int);
            return Libc.GetSockOpt(_fd, Libc.SolSocket, Libc.SoError, &error, &length) == 0 ? error : System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>shutdown(2): <see cref="Libc.ShutRd"/> ends a waiting or later read as an end of input; <see cref="Libc.ShutWr"/> sends FIN.</summary>
    public void Shutdown(int how)
    {
        if (!Enter())
        {
            return;
        }

        try
        {
            Libc.Shutdown(_fd, how); // ENOTCONN when the peer is gone already: nothing to end
        }
        finally
        {
            Exit();
        }

        if (how != Libc.ShutWr)
        {
            _read.SignalFinal(); // the kernel wakes epoll too; this makes it independent of that
        }
    }

    /// <summary>From the reactor: the events of one epoll edge.</summary>
    internal void OnEvents(uint events)
    {
        // Edge-triggered: the peer's FIN is reported once, often with the last bytes; the read that takes them must
        // then find the end without another edge (SignalFinal). A hang-up or error ends writing for good too.
        if ((events & (Libc.EpollRdHup | Libc.EpollHup | Libc.EpollErr)) != 0)
        {
            _read.SignalFinal();
        }
        else if ((events & Libc.EpollIn) != 0)
        {
            _read.Signal();
        }

        if ((events & (Libc.EpollHup | Libc.EpollErr)) != 0)
        {
            WriteReadiness.SignalFinal();
        }
        else if ((events & Libc.EpollOut) != 0)
        {
            _write?.Signal();
        }
    }

    /// <summary>Closes the descriptor once no call is using it; waiting calls resume and fail.</summary>
    public void Dispose()
    {
        var users = Volatile.Read(ref _users);
        while (true)
        {
            if ((users & ClosedFlag) != 0)
            {
                return;
            }

            var seen = Interlocked.CompareExchange(ref _users, users | ClosedFlag, users);
            if (seen == users)
            {
                break;
            }

            users = seen;
        }

        if (users == 0)
        {
            Close();
        }

        _read.SignalFinal();
        _write?.SignalFinal();
    }

    private unsafe int TryReceive(Span<byte> buffer, int flags, out int errno)
    {
        if (!Enter())
        {
            throw new ObjectDisposedException(nameof(ReactorSocket));
        }

        try
        {
            fixed (byte* bytes = buffer)
            {
                var read = Libc.Recv(_fd, bytes, (nuint)buffer.Length, flags);
                errno = read < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
                return (int)read;
            }
        }
        finally
        {
            Exit();
        }
    }

    private unsafe nint TrySend(ReadOnlySpan<byte> buffer, out int errno)
    {
        if (!Enter())
        {
            throw new ObjectDisposedException(nameof(ReactorSocket));
        }

        try
        {
            fixed (byte* bytes = buffer)
            {
                var sent = Libc.Send(_fd, bytes, (nuint)buffer.Length, Libc.MsgNoSignal);
                errno = sent < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
                return sent;
            }
        }
        finally
        {
            Exit();
        }
    }

    private bool Enter()
    {
        if ((Interlocked.Increment(ref _users) & ClosedFlag) == 0)
        {
            return true;
        }

        Exit();
        return false;
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _users) == ClosedFlag)
        {
            Close();
        }
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _fdClosed, 1) != 0)
        {
            return; // a call that found the socket disposed gave back its reference after the close
        }

        Libc.Close(_fd); // removes it from the reactor's epoll set: this was its only descriptor
        _reactor.Forget(this);
    }
}
