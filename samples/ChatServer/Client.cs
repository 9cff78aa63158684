using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;

namespace ChatServer;

/// <summary>
/// One member of the room: a read loop that publishes what the peer says, and a write loop that drains a
/// bounded queue filled by the hub. The write loop is the only sender, since a WebSocket allows one send
/// at a time; everyone else asks it to close through <see cref="Close"/>.
/// </summary>
internal sealed class Client
{
    private const int InitialReceiveBufferSize = 4 * 1024;

    private readonly WebSocket _socket;
    private readonly Hub _hub;
    private readonly ChatServerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<ReadOnlyMemory<byte>> _sendQueue;
    // Cancelled when the peer takes too long to answer our Close; cancelling a receive aborts the socket.
    // Never disposed: the hub may still be calling Close while the connection winds down.
    private readonly CancellationTokenSource _readDeadline = new();
    private CloseRequest? _close;
    private byte[] _receiveBuffer = [];

    private sealed record CloseRequest(WebSocketCloseStatus Status, string Reason);

    public Client(string id, WebSocket socket, Hub hub, ChatServerOptions options, ILogger logger)
    {
        Id = id;
        _socket = socket;
        _hub = hub;
        _options = options;
        _logger = logger;
        _sendQueue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(options.SendQueueCapacity)
        {
            SingleReader = true,
            SingleWriter = true, // only the hub loop enqueues
        });
    }

    public string Id { get; }

    /// <summary>Queues a message without waiting; false means the queue is full and the client is too slow.</summary>
    public bool TryEnqueue(ReadOnlyMemory<byte> message) =>
        _sendQueue.Writer.TryWrite(message) || Volatile.Read(ref _close) is not null;

    /// <summary>Starts the closing handshake; the first caller's status wins, later calls do nothing.</summary>
    public void Close(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.CompareExchange(ref _close, new CloseRequest(status, reason), null) is not null)
        {
            return;
        }
        _sendQueue.Writer.TryComplete();
        _readDeadline.CancelAfter(_options.CloseTimeout);
    }

    /// <summary>Runs both loops until the connection is closed or aborted.</summary>
    public async Task RunAsync(CancellationToken connectionAborted)
    {
        var writing = WriteLoopAsync();
        try
        {
            await ReadLoopAsync(connectionAborted);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ChannelClosedException)
        {
            Log.ConnectionLost(_logger, _options.ReplicaName, Id, e);
            _socket.Abort();
        }
        finally
        {
            Close(WebSocketCloseStatus.NormalClosure, "");
            await writing;
        }
    }

    private async Task ReadLoopAsync(CancellationToken connectionAborted)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(connectionAborted, _readDeadline.Token);
        _receiveBuffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferSize);
        try
        {
            while (true)
            {
                var (type, length) = await ReceiveMessageAsync(reading.Token);
                if (type == WebSocketMessageType.Close)
                {
                    // RFC 6455 §5.5.1: answer with the status the peer sent.
                    Close(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "");
                    return;
                }
                if (Volatile.Read(ref _close) is not null)
                {
                    continue; // closing: only the peer's Close frame matters now
                }
                if (length > _options.MaxMessageSize)
                {
                    Log.MessageTooBig(_logger, _options.ReplicaName, Id, _options.MaxMessageSize);
                    Close(WebSocketCloseStatus.MessageTooBig, $"messages are limited to {_options.MaxMessageSize} bytes");
                }
                else if (type == WebSocketMessageType.Binary)
                {
                    Log.BinaryMessageRefused(_logger, _options.ReplicaName, Id);
                    Close(WebSocketCloseStatus.InvalidMessageType, "text messages only");
                }
                else
                {
                    await _hub.PublishAsync(_receiveBuffer.AsSpan(0, length).ToArray(), reading.Token);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_receiveBuffer);
        }
    }

    /// <summary>
    /// Reads one whole message, or stops as soon as it outgrows the limit. The buffer starts small and grows for
    /// large messages only, so that an idle member holds a few kilobytes rather than the largest message allowed.
    /// </summary>
    private async Task<(WebSocketMessageType Type, int Length)> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        // One byte more than allowed, so that a message of exactly MaxMessageSize fits and a larger one shows.
        var limit = _options.MaxMessageSize + 1;
        if (_receiveBuffer.Length > InitialReceiveBufferSize)
        {
            SwapReceiveBuffer(InitialReceiveBufferSize, keep: 0);
        }
        var length = 0;
        while (true)
        {
            var capacity = Math.Min(_receiveBuffer.Length, limit);
            if (length == capacity)
            {
                SwapReceiveBuffer(Math.Min(capacity * 2, limit), keep: length);
                capacity = Math.Min(_receiveBuffer.Length, limit);
            }
            var result = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(length, capacity - length), cancellationToken);
            length += result.Count;
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close || length == limit)
            {
                return (result.MessageType, length);
            }
        }
    }

    private void SwapReceiveBuffer(int size, int keep)
    {
        var replacement = ArrayPool<byte>.Shared.Rent(size);
        _receiveBuffer.AsSpan(0, keep).CopyTo(replacement);
        ArrayPool<byte>.Shared.Return(_receiveBuffer);
        _receiveBuffer = replacement;
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var message in _sendQueue.Reader.ReadAllAsync())
            {
                if (Volatile.Read(ref _close) is not null)
                {
                    break; // whatever is still queued would only delay the Close frame
                }
                using var deadline = new CancellationTokenSource(_options.WriteTimeout);
                await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, deadline.Token);
            }
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var close = Volatile.Read(ref _close)!;
                using var deadline = new CancellationTokenSource(_options.WriteTimeout);
                await _socket.CloseOutputAsync(close.Status, close.Reason, deadline.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // A send that times out has already aborted the socket; the read loop ends with it.
            Log.ConnectionLost(_logger, _options.ReplicaName, Id, e);
            _socket.Abort();
        }
    }
}
