using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Passerelle.Proxy.Tunnels;

/// <summary>
/// One proxied WebSocket: the client's side and the backend's side of the upgraded connection, each a
/// <see cref="TunnelStream"/>, and the request that carries them, so that the gateway can end it politely with
/// <see cref="CloseAsync"/> instead of dropping it. It is registered with <see cref="UpgradedConnections"/> once
/// both sides are upgraded, and unregistered when the forwarder is done with it.
/// </summary>
internal sealed class WebSocketTunnel
{
    /// <summary>
    /// How long the end of the backend's side is held back for the client to answer the Close. A client that
    /// answers does so within a round trip; one that does not is not worth delaying a shutdown for.
    /// </summary>
    internal static readonly TimeSpan MaxClientAnswerWait = TimeSpan.FromSeconds(2);

    private readonly UpgradedConnections _registry;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private LazySignal _ended; // its task is made only if someone waits for the end: most WebSockets end unwatched
    private IHttpRequestLifetimeFeature? _lifetime; // the request's, to abort it; not the request itself, which the relay may outlive
    private TunnelStream? _client;
    private TunnelStream? _backend;
    private bool _registered;
    private Task? _closing;
    private long _lastActivity = Environment.TickCount64;

    public WebSocketTunnel(UpgradedConnections registry, HttpContext context, string endpoint, string service, ILogger logger)
    {
        _registry = registry;
        _lifetime = context.Features.Get<IHttpRequestLifetimeFeature>();
        Endpoint = endpoint;
        Service = service;
        _logger = logger;
    }

    /// <summary>The backend endpoint, as <c>address:port</c>.</summary>
    public string Endpoint { get; }

    /// <summary>The Service the endpoint was picked from, for logs.</summary>
    public string Service { get; }

    /// <summary>
    /// On the direct path, how long the connection may carry nothing in either direction before the gateway closes
    /// it (<see cref="UpgradedConnections"/> sweeps); null where YARP's activity timeout does that job.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>Milliseconds since the last bytes in either direction (<see cref="Touch"/>).</summary>
    internal long IdleMilliseconds => Environment.TickCount64 - Volatile.Read(ref _lastActivity);

    /// <summary>Notes traffic: a clock read and a store per read, instead of a timer reset per read.</summary>
    internal void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    /// <summary>Completes when the forwarder is done with the connection, however it ended.</summary>
    public Task Completion => _ended.Task;

    /// <summary>True once the forwarder is done with the connection (without making <see cref="Completion"/>'s task).</summary>
    public bool HasEnded => _ended.IsSet;

    /// <summary>The client's side, once upgraded: the backend's frames are written into it.</summary>
    internal TunnelStream? ClientSide => _client;

    /// <summary>The backend's side, once upgraded: the client's frames are written into it.</summary>
    internal TunnelStream? BackendSide => _backend;

    /// <summary>True for an HTTP/1.1 <c>Upgrade: websocket</c> or an RFC 8441 extended CONNECT for <c>websocket</c>.</summary>
    public static bool IsWebSocketRequest(HttpContext context)
    {
        var connect = context.Features.Get<IHttpExtendedConnectFeature>();
        if (connect?.IsExtendedConnect == true)
        {
            return string.Equals(connect.Protocol, "websocket", StringComparison.OrdinalIgnoreCase);
        }

        return context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true &&
            string.Equals(context.Request.Headers.Upgrade.ToString(), "websocket", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Sends a Close frame with <paramref name="status"/> and <paramref name="reason"/> to both the client and
    /// the backend, each between two frames of its direction, then gives the connection <paramref name="grace"/>
    /// (counted from the call) to end on its own: the peers answer the Close, the backend, a server, closes TCP,
    /// and the gateway closes the client's connection once the client has answered (waiting at most
    /// <see cref="MaxClientAnswerWait"/> after the backend's end for that). What is still open then is
    /// aborted, as is a connection where a Close could not be sent in that time (a frame that never ends).
    /// Cancelling <paramref name="cancellationToken"/> aborts at once. Only the first
    /// call closes; later ones return the same task.
    /// </summary>
    public Task CloseAsync(WebSocketCloseStatus status, string reason, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        CloseFrame.EnsureSendable(status);
        ArgumentOutOfRangeException.ThrowIfLessThan(grace, TimeSpan.Zero);
        lock (_lock)
        {
            return _closing ??= CloseCoreAsync(status, reason, grace, cancellationToken);
        }
    }

    private async Task CloseCoreAsync(WebSocketCloseStatus status, string reason, TimeSpan grace, CancellationToken cancellationToken)
    {
        await Task.Yield(); // the caller may hold locks or be starting many closes in a row
        var client = _client;
        var backend = _backend;
        if (HasEnded || client is null || backend is null)
        {
            return;
        }

        UpgradedConnections.Log.TunnelClosing(_logger, Endpoint, Service, (int)status, reason);

        // The backend, a server, closes TCP once it has answered; the client's connection is then kept until the
        // client has answered too, for a short while, so that a client still sending reads its Close in full.
        var clientAnswered = Task.WhenAny(backend.CloseSeen, client.InputEnded);
        var answerWait = grace < MaxClientAnswerWait ? grace : MaxClientAnswerWait;
        backend.LingerAtEnd(() => client.CloseSent ? WaitAtMostAsync(clientAnswered, answerWait) : null);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(grace);
        string why;
        try
        {
            // Both Closes are asked for before either is written, so that neither peer can answer its Close before
            // the other has been sent its own: an answer always comes after the gateway's Close in its direction.
            var clientRequested = client.RequestClose(status, reason);
            var backendRequested = backend.RequestClose(status, reason);
            var toClient = clientRequested ? client.CompleteCloseAsync(deadline.Token) : Task.FromResult(false);
            var toBackend = backendRequested ? backend.CompleteCloseAsync(deadline.Token) : Task.FromResult(false);
            var sent = await Task.WhenAll(toClient, toBackend).ConfigureAwait(false);
            if (sent[0] && sent[1])
            {
                await Completion.WaitAsync(deadline.Token).ConfigureAwait(false);
                return;
            }

            why = cancellationToken.IsCancellationRequested
                ? "the close was cancelled"
                : $"the Close could not be sent to the {(sent[0] ? "backend" : "client")} " +
                  (deadline.IsCancellationRequested ? $"within {grace.TotalSeconds:0.###} s (no frame boundary)" : "(connection broken)");
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            why = cancellationToken.IsCancellationRequested
                ? "the close was cancelled"
                : $"the connection did not end within {grace.TotalSeconds:0.###} s of the Close";
        }

        if (!Completion.IsCompleted)
        {
            UpgradedConnections.Log.TunnelCloseAborted(_logger, Endpoint, Service, why);
            Abort();
        }
    }

    private static async Task WaitAtMostAsync(Task task, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }
    }

    /// <summary>True once <see cref="CloseAsync"/> was called.</summary>
    internal bool IsClosing => Volatile.Read(ref _closing) is not null;

    /// <summary>Wraps the client's upgraded stream; called by the upgrade feature once the 101 (or 200) is sent.</summary>
    internal Stream AttachClient(Stream upgraded)
    {
        var side = new TunnelStream(upgraded, towardsServer: false);
        lock (_lock)
        {
            _client = side;
        }

        RegisterIfUpgraded();
        return side;
    }

    /// <summary>Wraps the backend's upgraded stream; called when the forwarder reads the 101 response's content.</summary>
    internal Stream AttachBackend(Stream upgraded)
    {
        var side = new TunnelStream(upgraded, towardsServer: true);
        lock (_lock)
        {
            _backend = side;
        }

        RegisterIfUpgraded();
        return side;
    }

    /// <summary>
    /// The connection now outlives its request (the front door's, detached): aborting the tunnel aborts the connection
    /// through <paramref name="connection"/>, and the request is let go of.
    /// </summary>
    internal void OutlivesRequest(IHttpRequestLifetimeFeature connection)
    {
        lock (_lock)
        {
            if (_lifetime is not null)
            {
                _lifetime = connection;
            }
        }
    }

    /// <summary>The forwarder is done: unregister, and forget the request, which may be reused from now on.</summary>
    internal void End()
    {
        bool registered;
        lock (_lock)
        {
            registered = _registered;
            _registered = false;
            _lifetime = null;
        }

        if (registered)
        {
            _registry.Unregister(this);
        }

        _ended.Set();
    }

    private void RegisterIfUpgraded()
    {
        lock (_lock)
        {
            if (_client is null || _backend is null || _registered || _lifetime is null)
            {
                return;
            }

            _registered = true;
        }

        _registry.Register(this);
    }

    private void Abort()
    {
        // Under the lock, so that a request the forwarder has just finished with (and that Kestrel may reuse for
        // another stream) is never aborted.
        lock (_lock)
        {
            _lifetime?.Abort();
        }
    }
}
