namespace ChatServer;

/// <summary>
/// Carries chat messages between the replicas serving one room. The hub publishes what its members say and
/// delivers to its members whatever the backplane relays, its own messages included, so a pub/sub backplane
/// plugs in by implementing these two methods and nothing in the hub changes: <see cref="LocalBackplane"/> for a
/// replica alone, <see cref="InProcessRoom"/> for replicas in one process, <see cref="RedisBackplane"/> for replicas anywhere.
/// </summary>
internal interface IChatBackplane
{
    /// <summary>Sends a message to every replica; waits when the backplane is saturated.</summary>
    ValueTask PublishAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken);

    /// <summary>Hands every published message to <paramref name="deliver"/>, in order, until stopped.</summary>
    Task RelayAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> deliver, CancellationToken stoppingToken);
}
