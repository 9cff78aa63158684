using System.Diagnostics;
using System.Globalization;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// Opening many connections with a bounded number of handshakes in flight, and counting what failed; the base of the
/// modes' drivers. Everything runs on the loop's thread.
/// </summary>
internal abstract class LoadDriver : IWebSocketDriver
{
    private bool _opening;
    private int _slots;

    public int Failures { get; private set; }

    public string? FirstFailure { get; private set; }

    public virtual void Opened(WebSocketLoop loop, RawConnection connection)
    {
        if (_opening)
        {
            _slots++;
        }
    }

    public virtual void Echoed(WebSocketLoop loop, RawConnection connection, long now)
    {
    }

    public virtual void Closed(WebSocketLoop loop, RawConnection connection, long now)
    {
    }

    public virtual void Failed(WebSocketLoop loop, RawConnection connection)
    {
        Failures++;
        FirstFailure ??= connection.Failure;
        if (_opening)
        {
            _slots++;
        }
    }

    /// <summary>Opens every connection, <paramref name="concurrency"/> handshakes at a time; throws if any fails or time runs out.</summary>
    /// <remarks>
    /// <paramref name="firstIndex"/>: the index of <paramref name="connections"/>[0] among all the run's connections,
    /// for its source address, when connections are opened in several batches on one loop.
    /// </remarks>
    public void OpenAll(WebSocketLoop loop, RawConnection[] connections, int concurrency, TimeSpan timeout, int firstIndex = 0)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        _opening = true;
        _slots = concurrency;
        var next = 0;
        var failuresBefore = Failures;
        var openBefore = loop.OpenCount;
        while (loop.OpenCount - openBefore + (Failures - failuresBefore) < connections.Length)
        {
            // Started here rather than from the callbacks, so that a burst of failures cannot recurse.
            for (; _slots > 0 && next < connections.Length; _slots--, next++)
            {
                loop.Connect(connections[next], SourceAddresses.For(firstIndex + next));
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                _opening = false;
                throw new BenchException(string.Create(CultureInfo.InvariantCulture,
                    $"only {loop.OpenCount - openBefore} of {connections.Length} WebSockets opened within {timeout.TotalSeconds:F0} s"));
            }

            loop.Poll(20);
        }

        _opening = false;
        if (Failures > failuresBefore)
        {
            throw new BenchException(string.Create(CultureInfo.InvariantCulture,
                $"{Failures - failuresBefore} of {connections.Length} WebSockets could not open; first: {FirstFailure}"));
        }
    }
}

/// <summary>
/// Each connection sends a message and waits for its echo, again and again, until the end of the window: pingpong
/// (64 bytes) and stream (1 MiB). Round trips started in [from, to) are counted and timed.
/// </summary>
internal sealed class EchoLoopDriver(byte[] payload, int opcode) : LoadDriver
{
    private readonly byte[] _frame = WebSocketFrames.Masked(opcode, payload);
    private long _from;
    private long _to;
    private int _finished;

    public LatencySamples Samples { get; } = new();

    public long Messages { get; private set; }

    public override void Echoed(WebSocketLoop loop, RawConnection connection, long now)
    {
        if (connection.StartedAt >= _from && connection.StartedAt < _to)
        {
            Samples.Add(now - connection.StartedAt);
            Messages++;
        }

        if (now < _to)
        {
            loop.Send(connection, _frame, payload, opcode);
        }
        else
        {
            _finished++;
        }
    }

    /// <summary>Runs the loops: <paramref name="onWindow"/> is called when the measured window starts and when it ends.</summary>
    public void Run(WebSocketLoop loop, RawConnection[] connections, TimeSpan warmup, TimeSpan duration, Action<bool> onWindow)
    {
        var start = Stopwatch.GetTimestamp();
        _from = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        _to = _from + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var giveUp = _to + (10 * Stopwatch.Frequency); // a lost echo must not hang the run
        var failuresBefore = Failures;
        foreach (var connection in connections)
        {
            loop.Send(connection, _frame, payload, opcode);
        }

        var inWindow = false;
        var ended = false;
        while (_finished + (Failures - failuresBefore) < connections.Length)
        {
            var now = Stopwatch.GetTimestamp();
            if (!inWindow && now >= _from)
            {
                inWindow = true;
                onWindow(true);
            }

            if (!ended && now >= _to)
            {
                ended = true;
                onWindow(false);
            }

            if (now >= giveUp)
            {
                break;
            }

            loop.Poll(1);
        }

        if (!ended)
        {
            onWindow(false); // every connection failed before the end of the window
        }
    }
}

/// <summary>hold: one echo on every open connection, each with its own message, all sent at once.</summary>
internal sealed class HoldDriver : LoadDriver
{
    public int Answered { get; private set; }

    public override void Echoed(WebSocketLoop loop, RawConnection connection, long now) => Answered++;

    public void EchoAll(WebSocketLoop loop, RawConnection[] connections, TimeSpan timeout)
    {
        var failuresBefore = Failures;
        var open = connections.Where(c => c.State == RawState.Open).ToList(); // one closed while idle cannot answer
        foreach (var connection in open)
        {
            var payload = System.Text.Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"hold {connection.Id}"));
            loop.Send(connection, WebSocketFrames.Masked(WebSocketFrames.Text, payload), payload, WebSocketFrames.Text);
        }

        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Answered + (Failures - failuresBefore) < open.Count && Stopwatch.GetTimestamp() < deadline)
        {
            loop.Poll(20);
        }
    }
}

/// <summary>
/// churn: each of W workers opens a WebSocket (TCP connect, handshake), sends one message, checks its echo, closes
/// (close handshake, then the server's end of stream) and starts over. Cycles that end in [from, to) are counted.
/// </summary>
internal sealed class ChurnDriver : LoadDriver
{
    private static readonly byte[] Payload = WebSocketFrames.Payload(64, text: true);
    private static readonly byte[] Frame = WebSocketFrames.Masked(WebSocketFrames.Text, Payload);
    private readonly Queue<RawConnection> _restart = new(4096);
    private long _from;
    private long _to;
    private long _nextSource;
    private bool _stopping;

    public LatencySamples Samples { get; } = new(1 << 16);

    public long Cycles { get; private set; }

    public long FailuresInWindow { get; private set; }

    public override void Opened(WebSocketLoop loop, RawConnection connection) => loop.Send(connection, Frame, Payload, WebSocketFrames.Text);

    public override void Echoed(WebSocketLoop loop, RawConnection connection, long now) => loop.BeginClose(connection);

    public override void Closed(WebSocketLoop loop, RawConnection connection, long now)
    {
        if (now >= _from && now < _to)
        {
            Cycles++;
            Samples.Add(now - connection.CycleStartedAt);
        }

        _restart.Enqueue(connection);
    }

    public override void Failed(WebSocketLoop loop, RawConnection connection)
    {
        base.Failed(loop, connection);
        var now = Stopwatch.GetTimestamp();
        if (now >= _from && now < _to)
        {
            FailuresInWindow++;
        }

        _restart.Enqueue(connection);
    }

    public void Run(WebSocketLoop loop, RawConnection[] workers, TimeSpan warmup, TimeSpan duration, Action<bool> onWindow)
    {
        var start = Stopwatch.GetTimestamp();
        _from = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        _to = _from + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var drainUntil = _to + (5 * Stopwatch.Frequency);
        foreach (var worker in workers)
        {
            _restart.Enqueue(worker);
        }

        var inWindow = false;
        var idle = 0;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (!inWindow && now >= _from)
            {
                inWindow = true;
                onWindow(true);
            }

            if (!_stopping && now >= _to)
            {
                _stopping = true;
                onWindow(false);
            }

            // Restarted after the batch of events, never from a callback: an event of this batch may still name the slot.
            while (_restart.TryDequeue(out var worker))
            {
                if (_stopping)
                {
                    idle++;
                    continue;
                }

                worker.CycleStartedAt = Stopwatch.GetTimestamp();
                loop.Connect(worker, SourceAddresses.For(_nextSource++ % 62_500));
            }

            if ((_stopping && idle == workers.Length) || now >= drainUntil || Failures > 10_000)
            {
                if (!_stopping)
                {
                    onWindow(false); // gave up on failures before the end of the window
                }

                return;
            }

            loop.Poll(5);
        }
    }
}
