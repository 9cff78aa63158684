using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>
/// The relay's copy buffers (64 KiB, from the shared array pool) rented and not yet given back since this listener
/// started, from the pool's own events: what an idle relay should hold is none.
/// </summary>
internal sealed class RentedCopyBuffers : EventListener
{
    private const int CopyBufferSize = 64 * 1024;

    private readonly ConcurrentDictionary<int, bool> _outstanding = new();
    private volatile bool _started;

    public RentedCopyBuffers() => _started = true;

    public int Outstanding => _outstanding.Count;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "System.Buffers.ArrayPoolEventSource")
        {
            EnableEvents(eventSource, EventLevel.Verbose);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        // BufferRented (1) and BufferReturned (3) both start with the buffer's id and size.
        if (!_started || e.Payload is not [int id, int size, ..] || size != CopyBufferSize)
        {
            return;
        }

        if (e.EventId == 1)
        {
            _outstanding[id] = true;
        }
        else if (e.EventId == 3)
        {
            _outstanding.TryRemove(id, out _);
        }
    }
}
