namespace Passerelle.Proxy.Tunnels;

/// <summary>
/// A one-time signal whose task is only allocated if someone waits for it. Most proxied WebSockets end without
/// anyone waiting for their signals, and an idle WebSocket should cost as few bytes as possible.
/// </summary>
internal struct LazySignal
{
    private TaskCompletionSource? _source;
    private int _set;

    public bool IsSet => Volatile.Read(ref _set) == 1;

    /// <summary>Completes once <see cref="Set"/> was called.</summary>
    public Task Task
    {
        get
        {
            if (IsSet)
            {
                return System.Threading.Tasks.Task.CompletedTask;
            }

            var source = Volatile.Read(ref _source);
            if (source is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                source = Interlocked.CompareExchange(ref _source, created, null) ?? created;
            }

            // Set may have run between the check above and the publication of the source.
            if (IsSet)
            {
                source.TrySetResult();
            }

            return source.Task;
        }
    }

    public void Set()
    {
        Interlocked.Exchange(ref _set, 1);
        Volatile.Read(ref _source)?.TrySetResult();
    }
}
