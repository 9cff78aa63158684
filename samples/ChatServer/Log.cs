namespace ChatServer;

/// <summary>
/// Every message the server logs. Event ids are stable so that alerts and queries can rely on them; every
/// message names the replica, since a gateway demo runs several replicas in one process and one console.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Chat replica {Replica} listening on {Addresses}")]
    public static partial void Listening(ILogger logger, string replica, string addresses);

    [LoggerMessage(2, LogLevel.Information, "[{Replica}] {Client} joined; {Members} member(s)")]
    public static partial void ClientJoined(ILogger logger, string replica, string client, int members);

    [LoggerMessage(3, LogLevel.Information, "[{Replica}] {Client} left; {Members} member(s)")]
    public static partial void ClientLeft(ILogger logger, string replica, string client, int members);

    [LoggerMessage(4, LogLevel.Warning, "[{Replica}] {Client} dropped: its queue of {Capacity} messages is full; {Members} member(s)")]
    public static partial void SlowClientDropped(ILogger logger, string replica, string client, int capacity, int members);

    [LoggerMessage(5, LogLevel.Information, "[{Replica}] {Client} sent a message over {MaxMessageSize} bytes; closing with 1009")]
    public static partial void MessageTooBig(ILogger logger, string replica, string client, int maxMessageSize);

    [LoggerMessage(6, LogLevel.Information, "[{Replica}] {Client} sent a binary message; closing with 1003")]
    public static partial void BinaryMessageRefused(ILogger logger, string replica, string client);

    [LoggerMessage(7, LogLevel.Information, "[{Replica}] WebSocket handshake from {RemoteAddress} refused with {StatusCode}: {Reason}")]
    public static partial void HandshakeRejected(ILogger logger, string replica, string? remoteAddress, int statusCode, string reason);

    [LoggerMessage(8, LogLevel.Warning, "[{Replica}] WebSocket from origin {Origin} refused for host {Host}; add it to ChatServer:AllowedOrigins if it is legitimate")]
    public static partial void OriginRejected(ILogger logger, string replica, string origin, string? host);

    [LoggerMessage(9, LogLevel.Debug, "[{Replica}] {Client} connection lost")]
    public static partial void ConnectionLost(ILogger logger, string replica, string client, Exception exception);

    [LoggerMessage(10, LogLevel.Information, "[{Replica}] Shutting down: closing {Members} member(s) with 1001")]
    public static partial void Draining(ILogger logger, string replica, int members);

    [LoggerMessage(11, LogLevel.Warning, "[{Replica}] Shutdown did not wait for every member to leave")]
    public static partial void DrainTimedOut(ILogger logger, string replica);

    [LoggerMessage(12, LogLevel.Information, "[{Replica}] The room is shared through Redis {Endpoints}, channel {Channel}")]
    public static partial void RedisConnected(ILogger logger, string replica, string endpoints, string channel);

    [LoggerMessage(13, LogLevel.Warning, "[{Replica}] Redis {Endpoints} is unreachable ({Reason}); serving this replica's members only until it can be reached")]
    public static partial void RedisUnreachable(ILogger logger, string replica, string endpoints, string reason);

    [LoggerMessage(14, LogLevel.Warning, "[{Replica}] Lost Redis {Endpoints} ({Reason}); serving this replica's members only until it is back")]
    public static partial void RedisLost(ILogger logger, string replica, string endpoints, string reason);

    [LoggerMessage(15, LogLevel.Information, "[{Replica}] Redis {Endpoints} is back; the room is shared again")]
    public static partial void RedisRestored(ILogger logger, string replica, string endpoints);

    [LoggerMessage(16, LogLevel.Error, "[{Replica}] The Redis backplane failed; serving this replica's members only until restarted")]
    public static partial void RedisBackplaneFailed(ILogger logger, string replica, Exception exception);

    [LoggerMessage(17, LogLevel.Debug, "[{Replica}] Ignored a message on the Redis channel that is neither from a replica nor UTF-8 text within {MaxMessageSize} bytes")]
    public static partial void RedisMessageIgnored(ILogger logger, string replica, int maxMessageSize);
}
