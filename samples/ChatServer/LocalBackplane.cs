using System.Threading.Channels;

namespace ChatServer;

/// <summary>The backplane of a single replica: what is published here is relayed straight back.</summary>
internal sealed class LocalBackplane : IChatBackplane
{
    // Bounded so that a client flooding the room is slowed down by its own read loop instead of growing memory.
    private readonly Channel<ReadOnlyMemory<byte>> _messages =
        Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(1024) { SingleReader = true });

    public ValueTask PublishAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
        _messages.Writer.WriteAsync(message, cancellationToken);

    public async Task RelayAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> deliver, CancellationToken stoppingToken)
    {
        await foreach (var message in _messages.Reader.ReadAllAsync(stoppingToken))
        {
            await deliver(message, stoppingToken);
        }
    }
}
