namespace ChatServer;

/// <summary>Settings of one chat server replica, bound from the <c>ChatServer</c> configuration section.</summary>
public sealed class ChatServerOptions
{
    public const string SectionName = "ChatServer";

    /// <summary>
    /// Returned by <c>/whoami</c> and written in every log line, so that replicas behind a gateway,
    /// or several in one process, can be told apart. Defaults to the machine (pod) name.
    /// </summary>
    public string ReplicaName { get; set; } = Environment.MachineName;

    /// <summary>
    /// Browser origins (<c>scheme://host[:port]</c>) allowed to open a socket besides the page's own;
    /// <c>*</c> allows any. Empty means same-origin only: the Origin host must equal the Host header.
    /// Requests without Origin (non-browser clients) are always allowed.
    /// </summary>
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>Largest message accepted from a client, in bytes; a larger one closes the socket with 1009.</summary>
    public int MaxMessageSize { get; set; } = 64 * 1024;

    /// <summary>Messages waiting for one client; a client that lets its queue fill up is dropped.</summary>
    public int SendQueueCapacity { get; set; } = 256;

    /// <summary>Silence after which the server pings a client.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The read deadline: a client that answers no ping within this time is disconnected, so a dead peer
    /// is noticed after at most <see cref="PingInterval"/> plus this.
    /// </summary>
    public TimeSpan PongTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest time one message may take to reach a client before the connection is aborted.</summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long to wait for a client to answer our Close frame before aborting the connection.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Require <c>Sec-WebSocket-Key</c> to be 16 base64-encoded bytes, as RFC 6455 §4.1 asks of clients,
    /// instead of accepting any non-empty key like gorilla/websocket does (command line: <c>--strict-handshake</c>).
    /// </summary>
    public bool StrictHandshake { get; set; }

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>host:port</c>, <c>host:port,password=...,ssl=true</c>, ...) whose
    /// pub/sub carries the room between replicas, so that every replica given the same Redis and
    /// <see cref="RedisChannel"/> serves one room (command line: <c>--redis host:port</c>). Empty: the room lives in
    /// this replica's memory. While Redis is unreachable each replica goes on serving its own members.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>The Redis channel the room's messages are published on; replicas on different channels are different rooms.</summary>
    public string RedisChannel { get; set; } = "chat:room";
}
