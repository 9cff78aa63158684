using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Unicode;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ChatServer;

/// <summary>
/// Carries the room over Redis pub/sub (<see cref="ChatServerOptions.Redis"/>): every member's message is published
/// on <see cref="ChatServerOptions.RedisChannel"/>, and every replica delivers what the channel relays, its own
/// messages included, so replicas sharing a Redis serve one room and see its messages in the same order.
/// </summary>
/// <remarks>
/// <para>
/// Redis going away does not take the replica with it. StackExchange.Redis reconnects by itself, with backoff, and
/// resubscribes (AbortOnConnectFail is off, so start-up does not wait for Redis either); meanwhile this replica
/// delivers its own members' messages straight to them, so the room shrinks to the replica's members rather than
/// falling silent. Each change is logged once: a warning when Redis is lost, an information when the room is shared
/// again.
/// </para>
/// <para>
/// The replica counts as connected once a probe it published has come back through its own subscription, not as soon
/// as a socket reconnects, since the resubscription follows the reconnection. Until then, and whenever a publish
/// fails or its echo is late, messages are delivered locally. Every message carries the replica's id and a sequence
/// number, so that the echo of a message already delivered locally (a publish that timed out yet reached Redis) is
/// dropped instead of being delivered twice. Publishing fails at once while disconnected, instead of waiting in
/// StackExchange.Redis's backlog: sent after the reconnection, such a message would reach the other replicas long
/// after the conversation moved on, and come back here a second time.
/// </para>
/// </remarks>
internal sealed class RedisBackplane : IChatBackplane
{
    // An envelope: Marker, kind, the publishing replica's id (16 bytes), a sequence number (8 bytes), the message.
    // 0xFF never occurs in UTF-8, so an envelope cannot be taken for text published by another program.
    private const byte Marker = 0xFF;
    private const byte ChatKind = (byte)'C';
    private const byte ProbeKind = (byte)'P';
    private const int HeaderLength = 2 + 16 + 8;

    // While disconnected, how often to probe whether the room can be shared again (besides on every reconnection).
    private static readonly TimeSpan MinProbeInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxProbeInterval = TimeSpan.FromSeconds(2);
    // While connected, how often to look for messages whose echo is late.
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly ConfigurationOptions _configuration;
    private readonly RedisChannel _channel;
    private readonly string _channelName;
    private readonly string _endpoints;
    private readonly string _replica;
    private readonly int _maxMessageSize;
    private readonly TimeSpan _echoTimeout;
    private readonly ILogger _logger;
    private readonly byte[] _id = Guid.NewGuid().ToByteArray();

    // Everything the hub is to deliver, in order: what the subscription relays and what is delivered locally.
    private readonly Channel<ReadOnlyMemory<byte>> _deliveries =
        Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(1024) { SingleReader = true });
    // This replica's messages published and not yet back, by sequence number.
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly Channel<bool> _wake =
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Lock _gate = new();
    private volatile State _state = State.Connecting;
    private volatile ISubscriber? _subscriber;
    private bool _unreachableLogged;
    private long _sequence;
    private long _probe;

    private enum State
    {
        Connecting, // never shared the room yet
        Online,
        Offline,
        Stopped,
    }

    private readonly record struct Pending(ReadOnlyMemory<byte> Message, long PublishedAt);

    public RedisBackplane(IOptions<ChatServerOptions> options, ILogger<RedisBackplane> logger)
    {
        var settings = options.Value;
        _configuration = ConfigurationOptions.Parse(settings.Redis!);
        _configuration.AbortOnConnectFail = false;
        _configuration.BacklogPolicy = BacklogPolicy.FailFast;
        _configuration.ReconnectRetryPolicy = new ExponentialRetry(deltaBackOffMilliseconds: 500, maxDeltaBackOffMilliseconds: 5000);
        _configuration.SetDefaultPorts();
        _channelName = settings.RedisChannel;
        _channel = RedisChannel.Literal(_channelName);
        _endpoints = string.Join(",", _configuration.EndPoints.Select(Describe));
        _replica = settings.ReplicaName;
        _maxMessageSize = settings.MaxMessageSize;
        _echoTimeout = TimeSpan.FromMilliseconds(_configuration.AsyncTimeout);
        _logger = logger;
    }

    public async ValueTask PublishAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        var subscriber = _subscriber;
        if (_state != State.Online || subscriber is null)
        {
            await _deliveries.Writer.WriteAsync(message, cancellationToken);
            return;
        }

        var sequence = Interlocked.Increment(ref _sequence);
        _pending[sequence] = new(message, Stopwatch.GetTimestamp());
        long receivers;
        try
        {
            receivers = await subscriber.PublishAsync(_channel, Envelope(ChatKind, sequence, message.Span));
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            OnFailure(Describe(e), wake: true);
            receivers = 0;
        }
        if (receivers == 0)
        {
            if (_state == State.Online)
            {
                // Not even this replica's subscription got it, so nothing will come back.
                OnFailure("this replica is not subscribed", wake: true);
            }
            if (_pending.TryRemove(sequence, out _))
            {
                await _deliveries.Writer.WriteAsync(message, cancellationToken);
            }
        }
    }

    public async Task RelayAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> deliver, CancellationToken stoppingToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var supervising = SuperviseAsync(stopping.Token);
        try
        {
            await foreach (var message in _deliveries.Reader.ReadAllAsync(stoppingToken))
            {
                await deliver(message, stoppingToken);
            }
        }
        finally
        {
            await stopping.CancelAsync();
            _deliveries.Writer.TryComplete();
            await supervising;
        }
    }

    /// <summary>Connects, subscribes, and tells when the room is shared, until stopped; never throws.</summary>
    private async Task SuperviseAsync(CancellationToken stoppingToken)
    {
        // Connecting takes up to ConnectTimeout when Redis is unreachable, which is no reason to delay the hub.
        await Task.Yield();
        ConnectionMultiplexer? multiplexer = null;
        var reading = Task.CompletedTask;
        try
        {
            multiplexer = await ConnectAsync(stoppingToken);
            multiplexer.ConnectionFailed += OnConnectionFailed;
            multiplexer.ConnectionRestored += OnConnectionRestored;
            if (!multiplexer.IsConnected)
            {
                OnFailure("cannot connect", wake: false);
            }
            var subscriber = multiplexer.GetSubscriber();
            _subscriber = subscriber;
            ChannelMessageQueue? queue = null;
            var probeInterval = MinProbeInterval;
            while (true)
            {
                if (_state == State.Online && await DeliverPendingLocallyAsync(_echoTimeout, stoppingToken) > 0)
                {
                    OnFailure($"no echo within {_echoTimeout.TotalSeconds:0.#} s", wake: false);
                }
                if (_state != State.Online)
                {
                    await DeliverPendingLocallyAsync(TimeSpan.Zero, stoppingToken);
                    if (queue is null && (queue = await TrySubscribeAsync(subscriber)) is not null)
                    {
                        reading = ReadAsync(queue, stoppingToken);
                    }
                    if (queue is not null)
                    {
                        await ProbeAsync(subscriber);
                    }
                }

                if (await WaitForWakeAsync(_state == State.Online ? SweepInterval : probeInterval, stoppingToken))
                {
                    probeInterval = MinProbeInterval; // a connection came back, or was just lost
                }
                else if (_state != State.Online)
                {
                    probeInterval = TimeSpan.FromTicks(Math.Min(probeInterval.Ticks * 2, MaxProbeInterval.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // A bug rather than Redis' doing: the replica carries on alone.
            Log.RedisBackplaneFailed(_logger, _replica, e);
        }
        finally
        {
            lock (_gate)
            {
                _state = State.Stopped;
            }
            if (multiplexer is not null)
            {
                multiplexer.ConnectionFailed -= OnConnectionFailed;
                multiplexer.ConnectionRestored -= OnConnectionRestored;
                await multiplexer.DisposeAsync();
            }
            await reading;
            if (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DeliverPendingLocallyAsync(TimeSpan.Zero, stoppingToken);
                }
                catch (Exception e) when (e is ChannelClosedException or OperationCanceledException)
                {
                }
            }
        }
    }

    private async Task<ConnectionMultiplexer> ConnectAsync(CancellationToken stoppingToken)
    {
        // Returns even when Redis is unreachable (AbortOnConnectFail is off), and keeps trying in the background.
        var connecting = ConnectionMultiplexer.ConnectAsync(_configuration);
        try
        {
            return await connecting.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            _ = connecting.ContinueWith(
                static task => task.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
    }

    private async Task<ChannelMessageQueue?> TrySubscribeAsync(ISubscriber subscriber)
    {
        try
        {
            return await subscriber.SubscribeAsync(_channel);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            OnFailure(Describe(e), wake: false);
            // SubscribeAsync registers its queue before it sends SUBSCRIBE: withdraw it, or it would fill up unread.
            try
            {
                await subscriber.UnsubscribeAsync(_channel);
            }
            catch (Exception again) when (IsRedisFailure(again))
            {
            }
            return null;
        }
    }

    private async Task ProbeAsync(ISubscriber subscriber)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        Interlocked.Exchange(ref _probe, sequence);
        try
        {
            await subscriber.PublishAsync(_channel, Envelope(ProbeKind, sequence, []));
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            OnFailure(Describe(e), wake: false);
        }
    }

    /// <summary>Reads the subscription until it ends; never throws.</summary>
    private async Task ReadAsync(ChannelMessageQueue queue, CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                var message = await queue.ReadAsync(stoppingToken);
                await HandleAsync((byte[]?)message.Message, stoppingToken);
            }
        }
        catch (ChannelClosedException)
        {
            // The subscription or the relay ended: stopping.
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // No more echoes: the supervisor will find this replica's messages late and deliver them locally.
            Log.RedisBackplaneFailed(_logger, _replica, e);
        }
    }

    private async ValueTask HandleAsync(byte[]? payload, CancellationToken stoppingToken)
    {
        if (payload is null)
        {
            return;
        }
        if (payload.Length >= HeaderLength && payload[0] == Marker)
        {
            var fromHere = payload.AsSpan(2, 16).SequenceEqual(_id);
            var sequence = BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(18, 8));
            switch (payload[1])
            {
                case ChatKind when !fromHere:
                    await _deliveries.Writer.WriteAsync(payload.AsMemory(HeaderLength), stoppingToken);
                    break;
                case ChatKind when _pending.TryRemove(sequence, out var pending):
                    await _deliveries.Writer.WriteAsync(pending.Message, stoppingToken);
                    break;
                case ProbeKind when fromHere && sequence == Interlocked.Read(ref _probe):
                    OnShared();
                    break;
                // Otherwise: the echo of a message already delivered locally, or a probe.
            }
        }
        else if (payload.Length <= _maxMessageSize && Utf8.IsValid(payload))
        {
            // Published by another program (redis-cli PUBLISH chat:room hello): the room hears it like a member's.
            await _deliveries.Writer.WriteAsync(payload, stoppingToken);
        }
        else
        {
            Log.RedisMessageIgnored(_logger, _replica, _maxMessageSize);
        }
    }

    /// <summary>Hands to the hub this replica's messages published at least <paramref name="age"/> ago whose echo has not come.</summary>
    private async Task<int> DeliverPendingLocallyAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        var delivered = 0;
        foreach (var sequence in _pending.Keys.Order())
        {
            if (_pending.TryGetValue(sequence, out var pending)
                && Stopwatch.GetElapsedTime(pending.PublishedAt) >= age
                && _pending.TryRemove(sequence, out _))
            {
                await _deliveries.Writer.WriteAsync(pending.Message, cancellationToken);
                delivered++;
            }
        }
        return delivered;
    }

    /// <summary>Waits for <paramref name="delay"/>, or less if a connection is lost or restored meanwhile; true then.</summary>
    private async Task<bool> WaitForWakeAsync(TimeSpan delay, CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(delay);
        try
        {
            await _wake.Reader.ReadAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        OnFailure($"{e.FailureType} on the {e.ConnectionType.ToString().ToLowerInvariant()} connection", wake: true);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _wake.Writer.TryWrite(true);

    /// <summary>
    /// Redis cannot be relied on for now: logged on the way down only, however many failures follow. Waking the
    /// supervisor delivers the messages waiting for their echo at once, and probes again.
    /// </summary>
    private void OnFailure(string reason, bool wake)
    {
        lock (_gate)
        {
            Interlocked.Exchange(ref _probe, 0); // a probe sent before the failure proves nothing after it
            switch (_state)
            {
                case State.Online:
                    _state = State.Offline;
                    Log.RedisLost(_logger, _replica, _endpoints, reason);
                    break;
                case State.Connecting when !_unreachableLogged:
                    _unreachableLogged = true;
                    Log.RedisUnreachable(_logger, _replica, _endpoints, reason);
                    break;
            }
        }
        if (wake)
        {
            _wake.Writer.TryWrite(true);
        }
    }

    /// <summary>A probe came back through this replica's subscription: the room is shared.</summary>
    private void OnShared()
    {
        lock (_gate)
        {
            switch (_state)
            {
                case State.Connecting:
                    Log.RedisConnected(_logger, _replica, _endpoints, _channelName);
                    break;
                case State.Offline:
                    Log.RedisRestored(_logger, _replica, _endpoints);
                    break;
                default:
                    return;
            }
            _state = State.Online;
        }
    }

    private byte[] Envelope(byte kind, long sequence, ReadOnlySpan<byte> message)
    {
        var envelope = new byte[HeaderLength + message.Length];
        envelope[0] = Marker;
        envelope[1] = kind;
        _id.CopyTo(envelope, 2);
        BinaryPrimitives.WriteInt64BigEndian(envelope.AsSpan(18, 8), sequence);
        message.CopyTo(envelope.AsSpan(HeaderLength));
        return envelope;
    }

    private static bool IsRedisFailure(Exception e) =>
        e is RedisException or RedisTimeoutException or ObjectDisposedException;

    private static string Describe(Exception e) => e switch
    {
        RedisConnectionException connection => connection.FailureType.ToString(),
        RedisTimeoutException => "timeout",
        RedisServerException server => server.Message, // such as NOPERM: short, and names no secret
        _ => e.GetType().Name,
    };

    private static string Describe(EndPoint endpoint) => endpoint switch
    {
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endpoint.ToString() ?? "",
    };
}
