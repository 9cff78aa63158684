using System.Threading.Tasks.Sources;

namespace Passerelle.Proxy.Reactor;

/// <summary>
/// Whether one direction of a descriptor (reading or writing) may make progress, and the one waiter for it. The
/// reactor marks it ready on each epoll edge; the side that reads (or writes) clears it before each system call,
/// so that an edge that arrives during the call is never lost, and waits only after the call said "would block".
/// The waiter's continuation runs on the thread that signals it (the reactor's), without a thread hop.
/// </summary>
internal sealed class Readiness : IValueTaskSource<int>
{
    private const int NotReady = 0;
    private const int Ready = 1;
    private const int Waiting = 2;

    // Not ready at first: registering a descriptor with epoll reports what is already there as an edge.
    private int _state = NotReady;
    private ManualResetValueTaskSourceCore<int> _core;
    private CancellationTokenRegistration _cancellation;
    private CancellationToken _token;

    private volatile bool _final;

    public bool IsReady => Volatile.Read(ref _state) == Ready;

    /// <summary>
    /// Before a call that may take the last bytes (or room): an edge from now on makes it ready again. Once
    /// <see cref="SignalFinal"/> was called it stays ready.
    /// </summary>
    public void Clear()
    {
        // A full fence between clearing and reading _final: a final edge is either seen here or sets Ready after.
        Interlocked.Exchange(ref _state, NotReady);
        if (_final)
        {
            Set();
        }
    }

    /// <summary>After a call that left more to do (a full read): the next one need not wait for an edge.</summary>
    public void Set() => Volatile.Write(ref _state, Ready);

    /// <summary>From the reactor (an edge) or a shutdown: ready, and the waiter, if any, resumes.</summary>
    public void Signal()
    {
        if (Interlocked.Exchange(ref _state, Ready) == Waiting)
        {
            _core.SetResult(0);
        }
    }

    /// <summary>
    /// The last edge this direction will get (the peer's FIN, a reset, a hang-up), which may come with the last bytes:
    /// a read that takes those bytes must not wait for another edge, so it stays ready for good.
    /// </summary>
    public void SignalFinal()
    {
        _final = true;
        Signal();
    }

    /// <summary>
    /// Starts waiting for the next <see cref="Signal"/> when not ready; false when it became ready meanwhile (try
    /// the call again). The result of the wait is 0; it fails with <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires first.
    /// </summary>
    public bool TryWait(CancellationToken cancellationToken, out ValueTask<int> wait)
    {
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, NotReady) != NotReady)
        {
            wait = default;
            return false;
        }

        if (cancellationToken.CanBeCanceled)
        {
            _token = cancellationToken;
            _cancellation = cancellationToken.UnsafeRegister(static state => ((Readiness)state!).Cancel(), this);
        }

        wait = new ValueTask<int>(this, _core.Version);
        return true;
    }

    private void Cancel()
    {
        if (Interlocked.CompareExchange(ref _state, NotReady, Waiting) == Waiting)
        {
            _core.SetException(new OperationCanceledException(_token));
        }
    }

    int IValueTaskSource<int>.GetResult(short token)
    {
        // The registration is dropped by the waiter itself, after completion: no later wait can be cancelled by it.
        if (_token.CanBeCanceled)
        {
            _cancellation.Dispose();
            (_cancellation, _token) = (default, default);
        }

        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // The waiter's continuation (its async method's state) is let go of now, not kept alive until the next wait:
            // the connect's wait on a backend socket would otherwise last as long as the WebSocket.
            _core.Reset();
        }
    }

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
