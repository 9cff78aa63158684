using System.Buffers;
using System.Net;
using System.Net.Sockets;
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
    private long _ids;
    private int _served;
    private volatile bool _stopping;

    public FrontDoorListener(Socket listenSocket, SocketConnectionContextFactory kestrel, RequestDelegate handler, TimeSpan firstBytesTimeout,
        TimeSpan drainTimeout, ILogger logger)
    {
        _listenSocket = listenSocket;
        _kestrel = kestrel;
        _handler = handler;
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
        _listenSocket.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listenSocket.AcceptAsync().ConfigureAwait(false);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                continue; // the client left while queued
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                break; // unbound
            }

            socket.NoDelay = true;
            socket.Blocking = false; // the first bytes are peeked without waiting; Kestrel's transport is asynchronous anyway
            _ = ClassifyAsync(socket);
        }

        _forKestrel.Writer.TryComplete();
    }

    private async Task ClassifyAsync(Socket socket)
    {
        // Most clients send the handshake with the connection, so the first look is a plain non-blocking peek; only
        // a client that has not spoken yet is waited for, without a buffer, so that it holds no memory meanwhile.
        var buffer = ArrayPool<byte>.Shared.Rent(UpgradeHead.MaxLength);
        var peeked = socket.Receive(buffer, 0, UpgradeHead.MaxLength, SocketFlags.Peek, out var error);
        if (error == SocketError.WouldBlock)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!await WaitForFirstBytesAsync(socket).ConfigureAwait(false))
            {
                return;
            }

            buffer = ArrayPool<byte>.Shared.Rent(UpgradeHead.MaxLength);
            peeked = socket.Receive(buffer, 0, UpgradeHead.MaxLength, SocketFlags.Peek, out error);
        }

        UpgradeHead? head;
        try
        {
            if (error != SocketError.Success || peeked == 0)
            {
                socket.Dispose(); // reset, or connected and left without a word
                return;
            }

            head = UpgradeHead.TryParse(buffer.AsSpan(0, peeked), out var notTaken);
            if (head is null)
            {
                HandToKestrel(socket, notTaken!);
                return;
            }

            // Take the head off the socket (it is all there: it was just peeked); what follows it is the WebSocket's.
            if (socket.Receive(buffer, 0, head.Length, SocketFlags.None, out error) != head.Length || error != SocketError.Success)
            {
                socket.Dispose();
                return;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
            return;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        UpgradeExchange exchange;
        try
        {
            exchange = new UpgradeExchange(socket, head, $"front-{Interlocked.Increment(ref _ids)}");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose(); // reset before its addresses could be read
            return;
        }

        // Not awaited: this method's frame, with the head and its buffer, ends here instead of living as long as the WebSocket.
        _ = ServeAsync(socket, exchange);
    }

    /// <summary>
    /// Waits for a client's first bytes. False when the connection is done with: it failed, or the client said nothing
    /// within the request-headers timeout, in which case it went to Kestrel, whose own timeouts apply.
    /// </summary>
    private async ValueTask<bool> WaitForFirstBytesAsync(Socket socket)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_firstBytesTimeout);
            await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            HandToKestrel(socket, "nothing sent within the request headers timeout");
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            socket.Dispose();
        }

        return false;
    }

    private void HandToKestrel(Socket socket, string reason)
    {
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.HandedToKestrel(_logger, socket.RemoteEndPoint?.ToString(), reason);
        }

        if (_stopping || !_forKestrel.Writer.TryWrite(_kestrel.Create(socket)))
        {
            socket.Dispose();
        }
    }

    private async Task ServeAsync(Socket socket, UpgradeExchange exchange)
    {
        Interlocked.Increment(ref _served);
        try
        {
            await _handler(new DefaultHttpContext(exchange)).ConfigureAwait(false);
            if (!exchange.Upgraded)
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
            Close(socket);
            if (Interlocked.Decrement(ref _served) == 0 && _stopping)
            {
                _drained.TrySetResult();
            }
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

    private static void Close(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        socket.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, EventName = "FrontDoorHandlerFailed", Level = LogLevel.Error,
            Message = "Serving the WebSocket handshake of {Client} for {Path} failed")]
        public static partial void HandlerFailed(ILogger logger, string? client, string path, Exception exception);

        [LoggerMessage(EventId = 1202, EventName = "FrontDoorDrainTimedOut", Level = LogLevel.Warning,
            Message = "{Count} WebSockets were still open when the shutdown timeout ended")]
        public static partial void DrainTimedOut(ILogger logger, int count);

        [LoggerMessage(EventId = 1203, EventName = "FrontDoorHandedToKestrel", Level = LogLevel.Debug,
            Message = "The connection of {Client} goes to the HTTP server: {Reason}")]
        public static partial void HandedToKestrel(ILogger logger, string? client, string reason);
    }
}
