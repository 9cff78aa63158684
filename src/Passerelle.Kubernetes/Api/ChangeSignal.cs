namespace Passerelle.Kubernetes.Api;

/// <summary>
/// A version number that grows with every change, which any number of readers can wait on: each remembers the
/// version it last acted on, so a change made while it was busy is never missed and a burst is seen once.
/// </summary>
internal sealed class ChangeSignal
{
    private readonly object _lock = new();
    private long _version;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Version
    {
        get
        {
            lock (_lock)
            {
                return _version;
            }
        }
    }

    public void Notify()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _version++;
            changed = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Completes as soon as the version differs from <paramref name="seen"/>.</summary>
    public async Task WaitAsync(long seen, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (_lock)
            {
                if (_version != seen)
                {
                    return;
                }

                next = _next.Task;
            }

            await next.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
