using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Passerelle.Health;
using Passerelle.Proxy.Runtime;
using Passerelle.Proxy.Splice;
using Passerelle.Proxy.Tunnels;
using Yarp.ReverseProxy.Forwarder;

namespace Passerelle.Proxy.Forwarding;

/// <summary>
/// The terminal request handler: match the route in the current snapshot, pick an available endpoint, forward
/// with YARP's <see cref="IHttpForwarder"/>. When an endpoint fails before anything reached the client (the
/// connection is refused, or, for a request without body such as a WebSocket handshake, the connection breaks
/// before the response), the request is retried on another endpoint, so a dying pod costs latency, not an error.
/// </summary>
internal sealed partial class GatewayForwarder
{
    private readonly SnapshotHolder _snapshots;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _client;
    private readonly GatewayOptions _options;
    private readonly UpgradedConnections _tunnels;
    private readonly WebSocketSplice _splice;
    private readonly ILogger _logger;

    public GatewayForwarder(SnapshotHolder snapshots, IHttpForwarder forwarder, BackendClient client, GatewayOptions options, UpgradedConnections tunnels,
        WebSocketSplice splice, ILogger<GatewayForwarder> logger)
    {
        _splice = splice;
        _snapshots = snapshots;
        _forwarder = forwarder;
        _client = client.Invoker;
        _options = options;
        _tunnels = tunnels;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var route = _snapshots.Current.Match(context.Request.Host.Host, context.Request.Path.Value ?? "/");
        if (route is null)
        {
            await ErrorResponses.NoRoute(context);
            return;
        }

        var pool = route.Pool;
        var service = pool.ServiceName;
        var isUpgrade = context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true
            || context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;
        var isWebSocket = isUpgrade && WebSocketTunnel.IsWebSocketRequest(context);
        var canRetryAfterSending = context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody == false;
        var config = isUpgrade ? route.UpgradeRequest : route.HttpRequest;
        // Allocated only when a first attempt fails: most requests never retry.
        List<Destination>? tried = null;
        var attempts = 0;
        string? lastFailure = null;

        while (attempts < _options.MaxConnectAttempts && pool.Pick(tried) is { } destination)
        {
            attempts++;
            var prefix = route.UsesHttps ? destination.HttpsPrefix : destination.HttpPrefix;

            // A WebSocket over HTTP/1.1 to a plain-HTTP endpoint takes the direct path; other WebSockets are forwarded
            // as a tunnel that the gateway can close politely too (UpgradedConnections).
            ForwarderError error;
            Exception? failure;
            if (isWebSocket && WebSocketSplice.Takes(context, route, destination))
            {
                config = route.HttpRequest; // the handshake waits for the request timeout, as any request does
                (error, failure) = await _splice.ForwardAsync(context, route, destination, service);
            }
            else
            {
                error = isWebSocket
                    ? await _tunnels.ForwardAsync(_forwarder, context, prefix, _client, config, route.Transformer, destination.ToString(), service)
                    : await _forwarder.SendAsync(context, prefix, _client, config, route.Transformer);
                failure = error == ForwarderError.None ? null : context.Features.Get<IForwarderErrorFeature>()?.Exception;
            }

            if (error == ForwarderError.None)
            {
                return;
            }

            var connectFailed = IsConnectFailure(failure);
            if (error == ForwarderError.Request && !context.Response.HasStarted && (connectFailed || canRetryAfterSending))
            {
                (tried ??= new List<Destination>(2)).Add(destination);
                lastFailure = $"{destination}: {Describe(failure)}";
                if (connectFailed)
                {
                    destination.Health.RecordPassiveFailure($"connection failed in the data plane ({Describe(failure)})");
                }

                Log.Retrying(_logger, destination.ToString(), service, Describe(failure));

                // Nothing reached the client: undo the forwarder's 502 and try the next endpoint.
                context.Response.Clear();
                context.Features.Set<IForwarderErrorFeature>(null);
                continue;
            }

            if (IsClientGone(error))
            {
                Log.ClientGone(_logger, destination.ToString(), service, error);
            }
            else
            {
                Log.ForwardFailed(_logger, destination.ToString(), service, error, failure?.Message);
            }

            if (!context.Response.HasStarted)
            {
                if (error == ForwarderError.RequestTimedOut)
                {
                    await ErrorResponses.GatewayTimeout(context, service, $"{destination} did not answer within {config.ActivityTimeout?.TotalSeconds} s");
                }
                else if (error is ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.UpgradeRequestDestination)
                {
                    await ErrorResponses.BadGateway(context, service, $"{destination}: {error} ({Describe(failure)})");
                }
            }

            return;
        }

        await ErrorResponses.BadGateway(context, service, lastFailure is null ? pool.DescribeUnavailable() : $"no endpoint could be reached; last: {lastFailure}");
    }

    /// <summary>The client closed or reset its side: normal for WebSockets and abandoned downloads.</summary>
    private static bool IsClientGone(ForwarderError error) => error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
        or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled;

    private static bool IsConnectFailure(Exception? exception) => exception switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } => true,
        HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.TimedOut } } => true,
        _ => false,
    };

    private static string Describe(Exception? exception) => ConnectionErrors.Describe(exception);

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, EventName = "BackendAttemptFailed", Level = LogLevel.Warning,
            Message = "Forwarding to {Endpoint} of {Service} failed before any response ({Reason}); trying another endpoint")]
        public static partial void Retrying(ILogger logger, string endpoint, string service, string reason);

        [LoggerMessage(EventId = 1002, EventName = "ForwardFailed", Level = LogLevel.Information,
            Message = "Forwarding to {Endpoint} of {Service} ended with {Error}: {Detail}")]
        public static partial void ForwardFailed(ILogger logger, string endpoint, string service, ForwarderError error, string? detail);

        [LoggerMessage(EventId = 1003, EventName = "ClientGone", Level = LogLevel.Debug,
            Message = "The client of {Endpoint} of {Service} went away ({Error})")]
        public static partial void ClientGone(ILogger logger, string endpoint, string service, ForwarderError error);
    }
}
