using System.Buffers;
using System.Net.Sockets;
using Passerelle.Proxy.Tunnels;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// Carries the bytes of an upgraded connection both ways until it ends. Each direction waits for data with a
/// zero-byte read and takes a pooled buffer only once bytes are there, so an idle connection holds no buffer;
/// nothing is allocated per message. When the client stops sending (TCP FIN), the backend is told the same way
/// (half-close) and has its say until it closes; when the backend ends or either side fails, the client's side is
/// ended too.
/// </summary>
/// <remarks>
/// An open WebSocket is this object and its two pumps, nothing that waits on them: each pump reports its own end
/// (<see cref="PumpEnded"/>), and the second to end finishes the relay. A method awaiting both (and the task
/// <see cref="Task.WhenAny(Task, Task)"/> makes) would be held for the WebSocket's life: about 0.3 KiB in all.
/// </remarks>
internal sealed class Relay
{
    /// <summary>Large enough for a 1 MiB message in a few reads; rented only while bytes are in flight.</summary>
    private const int BufferSize = 64 * 1024;

    private readonly TunnelStream _client;
    private readonly TunnelStream _backend;
    private readonly SocketEndStream _backendSocket;
    private readonly WebSocketTunnel _tunnel;
    private readonly IStoppableReads? _clientReads;
    private readonly IDetachedConnection? _detached;
    private readonly TaskCompletionSource? _done; // only when someone waits for the end (Kestrel's path)
    private readonly CancellationTokenSource _stop = new();
    private int _ended; // pumps that have ended
    private int _settled; // pumps whose end has been dealt with
    private volatile bool _downEnded;
    private Exception? _fault;

    private Relay(TunnelStream client, TunnelStream backend, SocketEndStream backendSocket, WebSocketTunnel tunnel, IStoppableReads? clientReads,
        IDetachedConnection? detached, TaskCompletionSource? done)
    {
        (_client, _backend, _backendSocket, _tunnel, _clientReads, _detached, _done) = (client, backend, backendSocket, tunnel, clientReads, detached, done);
    }

    /// <summary>
    /// Relays until both directions are done, then ends the tunnel and closes the backend's side; the task completes
    /// then (with the first unexpected failure of a pump, if any).
    /// </summary>
    /// <remarks>
    /// Not tied to the request's RequestAborted: Kestrel fires it when the client half-closes, which would cut the
    /// backend's answer short. An aborted client connection fails the client's reads instead, which stops the relay.
    /// When the client's reads can be stopped without an exception (<paramref name="clientReads"/>: the front door's
    /// socket, or the transport pipes), they take no token: when the backend ends first, the usual end of a WebSocket
    /// (the server closes TCP after the close handshake), they end as an end of input instead of costing an exception
    /// on every closed WebSocket. Otherwise they are cancelled like the backend's.
    /// </remarks>
    public static Task RunAsync(TunnelStream client, TunnelStream backend, SocketEndStream backendSocket, WebSocketTunnel tunnel, IStoppableReads? clientReads)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        new Relay(client, backend, backendSocket, tunnel, clientReads, detached: null, done).Start();
        return done.Task;
    }

    /// <summary>
    /// Relays on its own a connection that outlives its request (<see cref="IDetachableUpgrade"/>), and ends it
    /// (<see cref="IDetachedConnection.End"/>) after the tunnel and the backend's side.
    /// </summary>
    public static void Start(TunnelStream client, TunnelStream backend, SocketEndStream backendSocket, WebSocketTunnel tunnel, IStoppableReads? clientReads,
        IDetachedConnection connection) =>
        new Relay(client, backend, backendSocket, tunnel, clientReads, connection, done: null).Start();

    private void Start()
    {
        // The request's execution context (logging scopes, the connection's async locals) is of no use to the pumps;
        // without it, each of their continuations skips restoring it: they run once per message.
        using (ExecutionContext.SuppressFlow())
        {
            // The backend's reads take no token either: a token registered for a WebSocket's whole life costs it two
            // objects. They are stopped by ending the socket's input (StopReading), which a pending read sees as the end.
            _ = PumpAsync(up: true);
            _ = PumpAsync(up: false);
        }
    }

    /// <summary>Copies one direction until its source ends (or fails), then says so.</summary>
    private async Task PumpAsync(bool up)
    {
        var (from, to) = up ? (_client, _backend) : (_backend, _client);
        var readToken = up && _clientReads is null ? _stop.Token : CancellationToken.None;
        var writeToken = _stop.Token;
        var completed = false;
        try
        {
            // No yield before the first read: it would cost each new WebSocket two thread hops. A direction whose first
            // reads complete at once only delays the other's start by the bytes already buffered.
            while (true)
            {
                await from.WaitForDataAsync(readToken).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                var splice = false;
                try
                {
                    int read;
                    do
                    {
                        read = await from.ReadAsync(buffer, readToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            completed = true;
                            return;
                        }

                        _tunnel.Touch();
                        await to.WriteAsync(buffer.AsMemory(0, read), writeToken).ConfigureAwait(false);
                        splice = to.SplicesFrom(from);
                    }
                    while (read == buffer.Length && !splice); // more may be waiting: read on before going back to waiting without a buffer
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                if (splice)
                {
                    // The rest of a large message goes through a kernel pipe, not this buffer (given back meanwhile).
                    await to.SpliceFromAsync(from, _tunnel, readToken, writeToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException
            or Microsoft.AspNetCore.Connections.ConnectionAbortedException or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            // A peer went away or the tunnel was stopped: how a WebSocket ends when it does not end politely.
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _fault, e, null);
        }
        finally
        {
            PumpEnded(up, completed);
        }
    }

    /// <summary>
    /// The first direction to end decides how the other ends: a client that finished sending half-closes the
    /// backend, which may still answer; anything else stops both. The second to end finishes the relay, once the
    /// first's end has been dealt with (stopping the other may end it on this very stack).
    /// </summary>
    private void PumpEnded(bool up, bool completed)
    {
        if (!up)
        {
            _downEnded = true;
        }

        if (Interlocked.Increment(ref _ended) == 1)
        {
            try
            {
                if (up && completed)
                {
                    _backendSocket.EndOutput();
                }
                else
                {
                    _clientReads?.StopReading();
                    if (!_downEnded)
                    {
                        _backendSocket.StopReading();
                    }

                    _stop.Cancel();
                }
            }
            catch (Exception e)
            {
                // Ending a side is not expected to fail; if it does, the other direction is stopped the hard way.
                Interlocked.CompareExchange(ref _fault, e, null);
                _detached?.Abort();
                _backendSocket.Dispose();
            }
        }

        if (Interlocked.Increment(ref _settled) == 2)
        {
            _ = FinishAsync();
        }
    }

    private async Task FinishAsync()
    {
        try
        {
            if (_detached is null && Reactor.EpollReactor.OnReactorThread)
            {
                // What follows the relay here is the request's end in Kestrel, not the reactor's work: it serves other
                // sockets. A detached relay's end (unregister, two closes) is as short as a message's relay.
                await Task.Yield();
            }

            _tunnel.End();
            await _backend.DisposeAsync().ConfigureAwait(false);
            _detached?.End();
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _fault, e, null);
        }
        finally
        {
            _stop.Dispose();
            if (_fault is { } fault)
            {
                _done?.TrySetException(fault);
            }
            else
            {
                _done?.TrySetResult();
            }
        }
    }
}
