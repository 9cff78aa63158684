using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Passerelle.Proxy.Reactor;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// The traffic port's listener. It accepts each connection itself and looks at the first bytes the client sent
/// (a peek: nothing is consumed): a WebSocket handshake in the plain form (<see cref="UpgradeHead"/>) is served
/// here, by the gateway's request handler over an <see cref="UpgradeExchange"/>, and after the <c>101</c> the
/// relay reads and writes the client's socket itself. Every other connection (HTTP requests, HTTP/2, a head split
/// over several packets, anything unusual) is handed to Kestrel as its socket transport would have handed it, and
/// Kestrel reads it from the first byte. A WebSocket served here costs no HTTP server connection, request object or
/// transport pipes for its whole life.
/// </summary>
internal sealed partial class FrontDoorListener : IConnectionListener
{
    private readonly Socket _listenSocket;
    private readonly SocketConnectionContextFactory _kestrel;
    private readonly RequestDelegate _handler;
    private readonly TimeSpan _firstBytesTimeout;
    private readonly TimeSpan _drainTimeout;
    private readonly ILogger _logger;
    private readonly Channel<ConnectionContext> _forKestrel = Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _accepting;
    private readonly SemaphoreSlim _slots;
    private readonly int _connectionLimit;
    private readonly CancellationTokenSource _stop = new();
    private readonly Action _endDetached;
    private ReactorSocket? _reactorListener;
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(10);
    private long _ids;
    private int _served;
    private volatile bool _stopping;

    /// <param name="connectionLimit">
    /// How many connections the port holds at once, WebSockets and HTTP alike (<see cref="OpenFileBudget"/>). At the
    /// limit it stops accepting, and new connections wait in the kernel's backlog until one ends: a gateway that ran out
    /// of file descriptors could not read its manifests, probe its endpoints or reach its backends any more (measured:
    /// it then died).
    /// </param>
    public FrontDoorListener(Socket listenSocket, SocketConnectionContextFactory kestrel, RequestDelegate handler, TimeSpan firstBytesTimeout,
        TimeSpan drainTimeout, int connectionLimit, ILogger logger)
    {
        _connectionLimit = connectionLimit;
        _slots = new SemaphoreSlim(connectionLimit);
        _listenSocket = listenSocket;
        _kestrel = kestrel;
        _handler = handler;
        _endDetached = Ended; // a WebSocket whose relay ran on its own has ended, its connection closed
        _firstBytesTimeout = firstBytesTimeout;
        _drainTimeout = drainTimeout;
        _logger = logger;
        EndPoint = new TrafficEndPoint((IPEndPoint)listenSocket.LocalEndPoint!);
        using (ExecutionContext.SuppressFlow())
        {
            _accepting = Task.Run(AcceptLoopAsync);
        }
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (await _forKestrel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_forKestrel.Reader.TryRead(out var connection))
            {
                return connection;
            }
        }

        return null;
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        StopAccepting();
        await _accepting.ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the WebSockets served here to end, as Kestrel waits for its connections: at shutdown the gateway
    /// closes them politely (Close 1001) and aborts what is left after their grace.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        StopAccepting();
        await _accepting.ConfigureAwait(false);
        if (Volatile.Read(ref _served) > 0)
        {
            try
            {
                await _drained.Task.WaitAsync(_drainTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Log.DrainTimedOut(_logger, Volatile.Read(ref _served));
            }
        }

        _kestrel.Dispose();
    }

    private void StopAccepting()
    {
        _stopping = true;
        Interlocked.MemoryBarrier(); // ordered before the count is read, against the last WebSocket's end
        _stop.Cancel();
        _listenSocket.Dispose();
        Volatile.Read(ref _reactorListener)?.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var failing = false;
        var full = false;
        while (true)
        {
            if (_slots.CurrentCount == 0 && !full)
            {
                Log.ConnectionLimitReached(_logger, _connectionLimit); // once per stretch at the limit
                full = true;
            }

            Socket? socket = null;
            var descriptor = -1;
            try
            {
                await _slots.WaitAsync(_stop.Token).ConfigureAwait(false);

                // A stretch at the limit ends once a tenth of the slots are free again, not at the first: clients that
                // left while queued are accepted and closed one by one, and would start a stretch (and a warning) each.
                full &= _slots.CurrentCount < Math.Max(1, _connectionLimit / 10);
                if (ListenerOnReactor() is { } listener)
                {
                    descriptor = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                }
                else
                {
                    socket = await _listenSocket.AcceptAsync().ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                break; // unbound while at the limit
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException && _stopping)
            {
                break; // unbound
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                _slots.Release();
                continue; // the client left while queued
            }
            catch (SocketException e)
            {
                _slots.Release();
                // Out of file descriptors, say: the listener must outlive it. A short pause keeps it from spinning
                // while nothing can be accepted; connections wait in the backlog meanwhile.
                if (!failing)
                {
                    Log.AcceptFailed(_logger, e.SocketErrorCode, e.Message); // once per streak of failures
                    failing = true;
                }

                await Task.Delay(AcceptRetryDelay).ConfigureAwait(false);
                continue;
            }

            failing = false;

            if (socket is null)
            {
                ClassifyAccepted(descriptor);
            }
            else
            {
                _ = ClassifyGuardedAsync(socket);
            }
        }

        _forKestrel.Writer.TryComplete();
    }

    /// <summary>
    /// The listening socket on a reactor, moved there the first time the reactors run: accepting, classifying and
    /// serving a WebSocket then happen on that reactor's thread, as its relay does, instead of crossing from .NET's
    /// socket engine to the reactor for every WebSocket (measured: 20-30% more CPU per upgrade). Null without reactors.
    /// </summary>
    private ReactorSocket? ListenerOnReactor()
    {
        if (_reactorListener is null && Reactors.IsAvailable && !_stopping)
        {
            Volatile.Write(ref _reactorListener, Reactors.Adopt(_listenSocket, Reactors.Pick()));
            if (_stopping)
            {
                _reactorListener.Dispose(); // stopped while it moved
            }
        }

        return _reactorListener;
    }

    /// <summary>Looks at one accepted connection; its slot is given back here unless the connection was passed on.</summary>
    private async Task ClassifyGuardedAsync(Socket socket)
    {
        var passedOn = false;
        try
        {
            socket.Blocking = false; // the first bytes are peeked without waiting; Kestrel's transport is asynchronous anyway
            passedOn = await ClassifyAsync(socket).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset before it could be looked at.
        }
        catch (Exception e)
        {
            Log.ClassifyFailed(_logger, e);
        }
        finally
        {
            if (!passedOn)
            {
                socket.Dispose();
                _slots.Release();
            }
        }
    }

    /// <summary>True when the connection was passed on: to Kestrel, or to <see cref="ServeAsync"/>.</summary>
    private async Task<bool> ClassifyAsync(Socket socket)
    {
        // Most clients send the handshake with the connection, so the first look is a plain non-blocking peek; only
        // a client that has not spoken yet is waited for, without a buffer, so that it holds no memory meanwhile.
        var buffer = ArrayPool<byte>.Shared.Rent(UpgradeHead.MaxLength);
        var peeked = socket.Receive(buffer, 0, UpgradeHead.MaxLength, SocketFlags.Peek, out var error);
        if (error == SocketError.WouldBlock)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!await SpeaksWithinTimeoutAsync(socket).ConfigureAwait(false))
            {
                return HandToKestrel(socket, "nothing sent within the request headers timeout"); // Kestrel's own timeouts apply
            }

            buffer = ArrayPool<byte>.Shared.Rent(UpgradeHead.MaxLength);
            peeked = socket.Receive(buffer, 0, UpgradeHead.MaxLength, SocketFlags.Peek, out error);
        }

        UpgradeHead? head;
        try
        {
            if (error != SocketError.Success || peeked == 0)
            {
                return false; // reset, or connected and left without a word
            }

            head = UpgradeHead.TryParse(buffer.AsSpan(0, peeked), out var notTaken);
            if (head is null)
            {
                return HandToKestrel(socket, notTaken!);
            }

            // Take the head off the socket (it is all there: it was just peeked); what follows it is the WebSocket's.
            if (socket.Receive(buffer, 0, head.Length, SocketFlags.None, out error) != head.Length || error != SocketError.Success)
            {
                return false;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var exchange = new UpgradeExchange(socket, head, Interlocked.Increment(ref _ids)) { OnDetachedEnd = _endDetached };

        // Not awaited: this method's frame, with the head and its buffer, ends here instead of living as long as the WebSocket.
        _ = ServeAsync(exchange);
        return true;
    }

    /// <summary>Waits, without a buffer, for a client's first bytes; false when it said nothing within the timeout.</summary>
    private async ValueTask<bool> SpeaksWithinTimeoutAsync(Socket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_firstBytesTimeout);
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>True when Kestrel has the connection; its slot is given back when Kestrel closes it.</summary>
    private bool HandToKestrel(Socket socket, string reason)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.HandedToKestrel(_logger, socket.RemoteEndPoint?.ToString(), reason);
        }

        if (_stopping)
        {
            return false;
        }

        var connection = _kestrel.Create(socket);
        if (!_forKestrel.Writer.TryWrite(connection))
        {
            return false;
        }

        connection.ConnectionClosed.Register(static listener => ((FrontDoorListener)listener!)._slots.Release(), this);
        return true;
    }

    private async Task ServeAsync(UpgradeExchange exchange)
    {
        Interlocked.Increment(ref _served);
        try
        {
            await _handler(new DefaultHttpContext(exchange)).ConfigureAwait(false);
            if (!exchange.Detached && !exchange.Upgraded)
            {
                await exchange.CompleteAsync().ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The client left while its answer was written.
        }
        catch (Exception e)
        {
            Log.HandlerFailed(_logger, exchange.RemoteIpAddress?.ToString(), exchange.Path, e);
            await TryAnswerErrorAsync(exchange).ConfigureAwait(false);
        }
        finally
        {
            if (!exchange.Detached)
            {
                exchange.CloseConnection();
                Ended();
            }
        }
    }

    private void Ended()
    {
        _slots.Release();
        if (Interlocked.Decrement(ref _served) == 0 && _stopping)
        {
            _drained.TrySetResult();
        }
    }

    private static async Task TryAnswerErrorAsync(UpgradeExchange exchange)
    {
        if (exchange.HasStarted)
        {
            return;
        }

        try
        {
            exchange.StatusCode = StatusCodes.Status500InternalServerError;
            ((Microsoft.AspNetCore.Http.Features.IHttpResponseFeature)exchange).Headers.Clear();
            await exchange.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, EventName = "FrontDoorHandlerFailed", Level = LogLevel.Error,
            Message = "Serving the WebSocket handshake of {Client} for {Path} failed")]
        public static partial void HandlerFailed(ILogger logger, string? client, string path, Exception exception);

        [LoggerMessage(EventId = 1202, EventName = "FrontDoorDrainTimedOut", Level = LogLevel.Warning,
            Message = "{Count} WebSockets were still open when the shutdown timeout ended")]
        public static partial void DrainTimedOut(ILogger logger, int count);

        [LoggerMessage(EventId = 1204, EventName = "FrontDoorAcceptFailed", Level = LogLevel.Warning,
            Message = "Accepting connections on the traffic port fails ({Error}: {Message}); trying again every 10 ms")]
        public static partial void AcceptFailed(ILogger logger, SocketError error, string message);

        [LoggerMessage(EventId = 1205, EventName = "FrontDoorClassifyFailed", Level = LogLevel.Error,
            Message = "Looking at the first bytes of a connection failed; the connection is closed")]
        public static partial void ClassifyFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 1206, EventName = "FrontDoorConnectionLimitReached", Level = LogLevel.Warning,
            Message = "The traffic port holds its limit of {Limit} connections; new connections wait in the backlog until one ends")]
        public static partial void ConnectionLimitReached(ILogger logger, int limit);

        [LoggerMessage(EventId = 1203, EventName = "FrontDoorHandedToKestrel", Level = LogLevel.Debug,
            Message = "The connection of {Client} goes to the HTTP server: {Reason}")]
        public static partial void HandedToKestrel(ILogger logger, string? client, string reason);
    }
}
