using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Passerelle.Proxy.Tunnels;

/// <summary>
/// The WebSockets the gateway is proxying right now, by backend endpoint, and the means to end them politely: a
/// Close frame to both the client and the backend, with 1001 Going Away or 1012 Service Restart, instead of a
/// dropped TCP connection. Used when an endpoint leaves its pool (after the drain timeout) and when the gateway
/// stops. Closes are spread over time, so that the clients do not all reconnect in the same instant.
/// </summary>
public sealed partial class UpgradedConnections
{
    /// <summary>1012 Service Restart (IANA WebSocket close code registry), which <see cref="WebSocketCloseStatus"/> does not name.</summary>
    public const WebSocketCloseStatus ServiceRestart = (WebSocketCloseStatus)1012;

    /// <summary>The reason sent with the Close when an endpoint is closed. It names no address: clients read it.</summary>
    public const string EndpointReason = "backend endpoint removed";

    /// <summary>The reason sent with the Close by <see cref="CloseAllAsync"/>.</summary>
    public const string ShutdownReason = "gateway shutting down";

    private readonly Dictionary<string, HashSet<WebSocketTunnel>> _byEndpoint = new(StringComparer.Ordinal);
    private readonly object _lock = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private int _count;
    private WebSocketCloseStatus? _closingAll;
    private ITimer? _idleSweep;

    public UpgradedConnections(ILogger<UpgradedConnections> logger, TimeProvider? timeProvider = null)
    {
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>
    /// How long a closed connection may take to end on its own (the peers answer the Close, the backend closes
    /// TCP) before it is aborted. Default 10 s.
    /// </summary>
    public TimeSpan CloseGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The reason sent with the Close of a WebSocket that stayed idle for longer than its idle timeout.</summary>
    public const string IdleReason = "idle timeout";

    /// <summary>
    /// How often WebSockets with an <see cref="WebSocketTunnel.IdleTimeout"/> are checked for idleness: one timer for
    /// all of them, so that traffic costs no timer reset. An idle WebSocket is closed up to this much late.
    /// </summary>
    internal static readonly TimeSpan IdleSweepInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>Proxied WebSockets open now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Proxied WebSockets open now to <paramref name="endpoint"/> (<c>address:port</c>).</summary>
    public int CountFor(string endpoint)
    {
        lock (_lock)
        {
            return _byEndpoint.TryGetValue(endpoint, out var tunnels) ? tunnels.Count : 0;
        }
    }

    /// <summary>
    /// After <paramref name="after"/> (the drain timeout), closes the WebSockets to <paramref name="endpoint"/>
    /// open at that moment with <paramref name="status"/>, one after another evenly over <paramref name="spread"/>
    /// (the first at once, the last at <paramref name="spread"/> × (n−1)/n). Cancelling
    /// <paramref name="cancellationToken"/> (the endpoint came back) stops the wait and the closes not started
    /// yet; closes already started finish within <see cref="CloseGrace"/>. The task ends when every started close
    /// has, and is cancelled if the token fired first.
    /// </summary>
    public async Task CloseAsync(string endpoint, WebSocketCloseStatus status, TimeSpan after, TimeSpan spread, CancellationToken cancellationToken = default)
    {
        CloseFrame.EnsureSendable(status);
        ArgumentOutOfRangeException.ThrowIfLessThan(after, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(spread, TimeSpan.Zero);
        if (after > TimeSpan.Zero)
        {
            await Task.Delay(after, _time, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        WebSocketTunnel[] tunnels;
        lock (_lock)
        {
            tunnels = _byEndpoint.TryGetValue(endpoint, out var set) ? [.. set] : [];
        }

        if (tunnels.Length == 0)
        {
            return;
        }

        Log.EndpointTunnelsClosing(_logger, tunnels.Length, endpoint, (int)status, spread.TotalSeconds);
        await CloseSpreadAsync(tunnels, status, EndpointReason, spread, endpoint, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Closes every proxied WebSocket with <paramref name="status"/>, evenly over <paramref name="spread"/>, for a
    /// gateway that stops. WebSockets that open from now on are closed at once. Cancellation is as for
    /// <see cref="CloseAsync"/>, and lets WebSockets open again.
    /// </summary>
    public async Task CloseAllAsync(WebSocketCloseStatus status, TimeSpan spread, CancellationToken cancellationToken = default)
    {
        CloseFrame.EnsureSendable(status);
        ArgumentOutOfRangeException.ThrowIfLessThan(spread, TimeSpan.Zero);
        WebSocketTunnel[] tunnels;
        lock (_lock)
        {
            _closingAll = status;
            tunnels = [.. _byEndpoint.Values.SelectMany(set => set)];
        }

        Log.AllTunnelsClosing(_logger, tunnels.Length, (int)status, spread.TotalSeconds);
        try
        {
            await CloseSpreadAsync(tunnels, status, ShutdownReason, spread, "all endpoints", cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_lock)
            {
                _closingAll = null;
            }

            throw;
        }
    }

    /// <summary>
    /// Forwards a WebSocket handshake with <paramref name="forwarder"/> as a tunnel: the client's upgrade feature
    /// and the transformer are wrapped for the call, so that once upgraded the connection is registered here under
    /// <paramref name="endpoint"/>, until the forwarder returns.
    /// </summary>
    internal async ValueTask<ForwarderError> ForwardAsync(IHttpForwarder forwarder, HttpContext context, string destinationPrefix,
        HttpMessageInvoker client, ForwarderRequestConfig config, HttpTransformer transformer, string endpoint, string service)
    {
        var tunnel = new WebSocketTunnel(this, context, endpoint, service, _logger);
        var features = context.Features;
        var connect = features.Get<IHttpExtendedConnectFeature>();
        var upgrade = features.Get<IHttpUpgradeFeature>();
        var isConnect = connect?.IsExtendedConnect == true;
        if (isConnect)
        {
            features.Set<IHttpExtendedConnectFeature>(new TunnelExtendedConnectFeature(connect!, tunnel));
        }
        else if (upgrade is not null)
        {
            features.Set<IHttpUpgradeFeature>(new TunnelUpgradeFeature(upgrade, tunnel));
        }

        try
        {
            return await forwarder.SendAsync(context, destinationPrefix, client, config, new TunnelTransformer(transformer, tunnel)).ConfigureAwait(false);
        }
        finally
        {
            tunnel.End();
            if (isConnect)
            {
                features.Set(connect);
            }
            else if (upgrade is not null)
            {
                features.Set(upgrade);
            }
        }
    }

    internal void Register(WebSocketTunnel tunnel)
    {
        WebSocketCloseStatus? closingAll;
        lock (_lock)
        {
            if (!_byEndpoint.TryGetValue(tunnel.Endpoint, out var set))
            {
                _byEndpoint[tunnel.Endpoint] = set = [];
            }

            set.Add(tunnel);
            _count++;
            closingAll = _closingAll;
            if (tunnel.IdleTimeout is not null && _idleSweep is null)
            {
                _idleSweep = _time.CreateTimer(_ => CloseIdle(), null, IdleSweepInterval, IdleSweepInterval);
            }
        }

        if (closingAll is { } status)
        {
            _ = tunnel.CloseAsync(status, ShutdownReason, CloseGrace);
        }
    }

    internal void Unregister(WebSocketTunnel tunnel)
    {
        lock (_lock)
        {
            if (_byEndpoint.TryGetValue(tunnel.Endpoint, out var set) && set.Remove(tunnel))
            {
                _count--;
                if (set.Count == 0)
                {
                    _byEndpoint.Remove(tunnel.Endpoint);
                }
            }
        }
    }

    /// <summary>Closes, with 1001 Going Away, each WebSocket idle for longer than its idle timeout.</summary>
    private void CloseIdle()
    {
        List<WebSocketTunnel>? idle = null;
        lock (_lock)
        {
            foreach (var set in _byEndpoint.Values)
            {
                foreach (var tunnel in set)
                {
                    if (tunnel.IdleTimeout is { } limit && tunnel.IdleMilliseconds >= (long)limit.TotalMilliseconds && !tunnel.IsClosing)
                    {
                        (idle ??= []).Add(tunnel);
                    }
                }
            }
        }

        foreach (var tunnel in idle ?? [])
        {
            Log.IdleClosing(_logger, tunnel.Endpoint, tunnel.Service, tunnel.IdleTimeout!.Value.TotalSeconds);
            _ = tunnel.CloseAsync(WebSocketCloseStatus.EndpointUnavailable, IdleReason, CloseGrace);
        }
    }

    /// <summary>
    /// Starts the close of tunnel i of n at <paramref name="spread"/> × i/n from now: one timer at a time, and
    /// every tunnel due when it fires closed together. Tunnels that ended meanwhile cost nothing.
    /// </summary>
    private async Task CloseSpreadAsync(WebSocketTunnel[] tunnels, WebSocketCloseStatus status, string reason, TimeSpan spread,
        string target, CancellationToken cancellationToken)
    {
        var closes = new List<Task>(tunnels.Length);
        var start = _time.GetTimestamp();
        var grace = CloseGrace;
        var next = 0;
        try
        {
            while (next < tunnels.Length)
            {
                var due = TimeSpan.FromTicks(spread.Ticks / tunnels.Length * next + spread.Ticks % tunnels.Length * next / tunnels.Length);
                var wait = due - _time.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                cancellationToken.ThrowIfCancellationRequested();
                var tunnel = tunnels[next++];
                if (!tunnel.HasEnded)
                {
                    closes.Add(tunnel.CloseAsync(status, reason, grace));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Log.ClosesCancelled(_logger, target, tunnels.Length - next);
            throw;
        }
        finally
        {
            await Task.WhenAll(closes).ConfigureAwait(false);
        }
    }

    internal static partial class Log
    {
        [LoggerMessage(EventId = 1101, EventName = "TunnelClosing", Level = LogLevel.Debug,
            Message = "Closing the WebSocket to {Endpoint} of {Service} with {Code} ({Reason})")]
        public static partial void TunnelClosing(ILogger logger, string endpoint, string service, int code, string reason);

        [LoggerMessage(EventId = 1102, EventName = "TunnelCloseAborted", Level = LogLevel.Information,
            Message = "Aborting the WebSocket to {Endpoint} of {Service}: {Why}")]
        public static partial void TunnelCloseAborted(ILogger logger, string endpoint, string service, string why);

        [LoggerMessage(EventId = 1103, EventName = "EndpointTunnelsClosing", Level = LogLevel.Information,
            Message = "Closing {Count} WebSocket(s) to {Endpoint} with {Code}, spread over {SpreadSeconds} s")]
        public static partial void EndpointTunnelsClosing(ILogger logger, int count, string endpoint, int code, double spreadSeconds);

        [LoggerMessage(EventId = 1104, EventName = "AllTunnelsClosing", Level = LogLevel.Information,
            Message = "Closing all {Count} WebSocket(s) with {Code}, spread over {SpreadSeconds} s")]
        public static partial void AllTunnelsClosing(ILogger logger, int count, int code, double spreadSeconds);

        [LoggerMessage(EventId = 1105, EventName = "TunnelClosesCancelled", Level = LogLevel.Information,
            Message = "Closing the WebSockets to {Target} was cancelled; {NotClosed} left open")]
        public static partial void ClosesCancelled(ILogger logger, string target, int notClosed);

        [LoggerMessage(EventId = 1106, EventName = "WebSocketIdleTimeout", Level = LogLevel.Debug,
            Message = "Closing the WebSocket to {Endpoint} of {Service}: nothing crossed it for {IdleSeconds} s")]
        public static partial void IdleClosing(ILogger logger, string endpoint, string service, double idleSeconds);
    }
}
