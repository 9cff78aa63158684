using System.Threading.Channels;

namespace ChatServer;

/// <summary>
/// One room for several replicas built in the same process: give each the same instance
/// (<see cref="ChatServerApp.Build(string[], Action{ChatServerOptions}?, InProcessRoom?)"/>) and they serve one room,
/// as replicas sharing Redis do, with nothing to install. Every replica gets the room's messages in the same order.
/// </summary>
public sealed class InProcessRoom
{
    // One message reaches every replica before the next one is published, which keeps the order the same everywhere.
    private readonly SemaphoreSlim _publishing = new(1, 1);
    private readonly Lock _gate = new();
    private Channel<ReadOnlyMemory<byte>>[] _replicas = [];

    /// <summary>The backplane of one replica: a member of the room from now until it stops relaying or is disposed.</summary>
    internal IChatBackplane Join() => new Replica(this);

    private async ValueTask PublishAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await _publishing.WaitAsync(cancellationToken);
        try
        {
            foreach (var replica in Volatile.Read(ref _replicas))
            {
                try
                {
                    await replica.Writer.WriteAsync(message, cancellationToken);
                }
                catch (ChannelClosedException)
                {
                    // That replica stopped meanwhile.
                }
            }
        }
        finally
        {
            _publishing.Release();
        }
    }

    private void Add(Channel<ReadOnlyMemory<byte>> replica)
    {
        lock (_gate)
        {
            Volatile.Write(ref _replicas, [.. _replicas, replica]);
        }
    }

    private void Remove(Channel<ReadOnlyMemory<byte>> replica)
    {
        lock (_gate)
        {
            Volatile.Write(ref _replicas, [.. _replicas.Where(r => r != replica)]);
        }
    }

    private sealed class Replica : IChatBackplane, IDisposable
    {
        private readonly InProcessRoom _room;
        // Bounded as in LocalBackplane: a replica that falls behind slows the room's publishers down.
        private readonly Channel<ReadOnlyMemory<byte>> _messages =
            Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(1024) { SingleReader = true });

        public Replica(InProcessRoom room)
        {
            // Joined before the hub relays, so that nothing said meanwhile is missed.
            _room = room;
            room.Add(_messages);
        }

        public ValueTask PublishAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
            _room.PublishAsync(message, cancellationToken);

        public async Task RelayAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> deliver, CancellationToken stoppingToken)
        {
            try
            {
                await foreach (var message in _messages.Reader.ReadAllAsync(stoppingToken))
                {
                    await deliver(message, stoppingToken);
                }
            }
            finally
            {
                Dispose();
            }
        }

        /// <summary>Leaves the room, so that the others no longer wait for this replica; also when it never started.</summary>
        public void Dispose()
        {
            _room.Remove(_messages);
            _messages.Writer.TryComplete();
        }
    }
}
