using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Passerelle.Proxy.Reactor;
using Passerelle.Proxy.Runtime;
using Passerelle.Proxy.Tunnels;
using Yarp.ReverseProxy.Forwarder;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// The direct path for HTTP/1.1 WebSocket handshakes to plain-HTTP backends, the gateway's hot path: one new TCP
/// connection per WebSocket, the handshake written and read by the gateway, and after the 101 the client's upgraded
/// connection spliced to the backend socket by <see cref="Relay"/>. Compared with forwarding through an HTTP
/// client, it keeps no request or response objects, connection pool entry or per-connection buffers for the
/// WebSocket's lifetime, and copies each message once per direction. Failures before the response are reported
/// as the forwarder reports them, so the caller retries on another endpoint the same way.
/// </summary>
internal sealed class WebSocketSplice(UpgradedConnections tunnels, GatewayOptions options, ILogger<WebSocketSplice> logger)
{
    // Fields of the backend's response that describe its connection to the gateway, not the client's.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Trailer", "TE",
    };

    /// <summary>
    /// True for a request the direct path takes: an HTTP/1.1 Upgrade to websocket without a body, to an endpoint
    /// known by IP, over plain HTTP. RFC 8441 WebSockets over HTTP/2 and TLS backends take the forwarder.
    /// </summary>
    public static bool Takes(HttpContext context, RuntimeRoute route, Destination destination) =>
        !route.UsesHttps && destination.SocketAddress is not null &&
        context.Features.Get<IHttpUpgradeFeature>()?.IsUpgradableRequest == true &&
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody != true;

    public async Task<(ForwarderError Error, Exception? Failure)> ForwardAsync(HttpContext context, RuntimeRoute route, Destination destination, string service)
    {
        var (backend, head, error, failure) = await HandshakeAsync(context, route, destination).ConfigureAwait(false);
        if (backend is null || head is null)
        {
            return (error, failure);
        }

        using (backend)
        {
            if (head.Status != StatusCodes.Status101SwitchingProtocols)
            {
                return await SendResponseAsync(context, backend, head).ConfigureAwait(false);
            }

            CopyFields(head, context.Response.Headers, skipLength: true);
            head = null; // not kept alive by this frame for the WebSocket's lifetime
            return await SpliceAsync(context, route, destination, service, backend).ConfigureAwait(false);
        }
    }

    /// <summary>Connects, sends the handshake and reads the response head; the connection, or why there is none.</summary>
    private async Task<(BackendConnection? Backend, ResponseHead? Head, ForwarderError Error, Exception? Failure)> HandshakeAsync(
        HttpContext context, RuntimeRoute route, Destination destination)
    {
        // One deadline, one timer: the connect timeout, then the request timeout for the answer.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        deadline.CancelAfter(options.ConnectTimeout);
        BackendConnection backend;
        try
        {
            backend = await BackendConnection.ConnectAsync(destination.SocketAddress!, context.Features.Get<IReactorAffinity>()?.Reactor,
                deadline.Token, context.RequestAborted).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            return (null, null, ForwarderError.Request, new HttpRequestException(HttpRequestError.ConnectionError, e.Message, e));
        }
        catch (OperationCanceledException e)
        {
            return (null, null, ForwarderError.RequestCanceled, e);
        }

        deadline.CancelAfter(route.HttpRequest.ActivityTimeout ?? options.RequestTimeout);
        ForwarderError error;
        Exception failure;
        try
        {
            await backend.SendAsync(HandshakeRequest.Build(context, route.Rule), deadline.Token).ConfigureAwait(false);
            return (backend, await backend.ReadHeadAsync(deadline.Token).ConfigureAwait(false), ForwarderError.None, null);
        }
        catch (OperationCanceledException e)
        {
            (error, failure) = (context.RequestAborted.IsCancellationRequested ? ForwarderError.RequestCanceled : ForwarderError.RequestTimedOut, e);
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            (error, failure) = (ForwarderError.Request, e);
        }
        catch (InvalidDataException e)
        {
            (error, failure) = (ForwarderError.ResponseHeaders, e);
        }

        backend.Dispose();
        return (null, null, error, failure);
    }

    /// <summary>The backend refused the upgrade: its answer goes to the client as it came, and the connection is closed.</summary>
    private static async Task<(ForwarderError, Exception?)> SendResponseAsync(HttpContext context, BackendConnection backend, ResponseHead head)
    {
        var response = context.Response;
        response.StatusCode = head.Status;
        context.Features.Get<IHttpResponseFeature>()!.ReasonPhrase = head.Reason;
        long? length;
        try
        {
            length = BackendConnection.ContentLength(head);
        }
        catch (InvalidDataException e)
        {
            response.StatusCode = StatusCodes.Status200OK;
            return (ForwarderError.ResponseHeaders, e);
        }

        CopyFields(head, response.Headers, skipLength: true);
        response.ContentLength = head.Get("Transfer-Encoding") is null ? length : null;
        try
        {
            await backend.CopyBodyAsync(head, response.Body, context.RequestAborted).ConfigureAwait(false);
            return (ForwarderError.None, null);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or OperationCanceledException)
        {
            // Part of the answer may have reached the client: it must see the response cut, not complete.
            context.Abort();
            return (context.RequestAborted.IsCancellationRequested ? ForwarderError.ResponseBodyCanceled : ForwarderError.ResponseBodyDestination, e);
        }
    }

    private async Task<(ForwarderError, Exception?)> SpliceAsync(HttpContext context, RuntimeRoute route, Destination destination, string service,
        BackendConnection backend)
    {
        var tunnel = new WebSocketTunnel(tunnels, context, destination.Name, service, logger)
        {
            IdleTimeout = route.Rule.Settings.WebSocketIdleTimeout ?? options.WebSocketIdleTimeout,
        };

        Stream upgraded;
        try
        {
            upgraded = await context.Features.Get<IHttpUpgradeFeature>()!.UpgradeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or OperationCanceledException)
        {
            return (ForwarderError.UpgradeResponseCanceled, e);
        }

        var clientStream = ClientTransport.OpenStream(context, upgraded);
        var client = (TunnelStream)tunnel.AttachClient(clientStream);
        TunnelStream backendSide;
        SocketEndStream backendEnd;
        try
        {
            // What the backend sent right after its 101 (a greeting, say) goes first, through the frame tracking.
            if (!backend.Buffered.IsEmpty)
            {
                await client.WriteAsync(backend.Buffered, context.RequestAborted).ConfigureAwait(false);
            }

            backendEnd = backend.Detach();
            backendSide = (TunnelStream)tunnel.AttachBackend(backendEnd);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or Microsoft.AspNetCore.Connections.ConnectionAbortedException)
        {
            // The client left before the greeting could be passed on.
            tunnel.End();
            return (ForwarderError.None, null);
        }

        var clientReads = clientStream as IStoppableReads;
        if (context.Features.Get<IDetachableUpgrade>() is { } detachable)
        {
            // The front door's connection outlives this request: the relay runs on its own, and neither it nor the
            // request's execution context keeps the handshake's state alive for the WebSocket's life.
            var connection = detachable.Detach();
            tunnel.OutlivesRequest(connection);

            using (ExecutionContext.SuppressFlow())
            {
                Relay.Start(client, backendSide, backendEnd, tunnel, clientReads, connection);
            }

            return (ForwarderError.None, null);
        }

        await Relay.RunAsync(client, backendSide, backendEnd, tunnel, clientReads).ConfigureAwait(false);
        return (ForwarderError.None, null);
    }

    private static void CopyFields(ResponseHead head, IHeaderDictionary headers, bool skipLength)
    {
        for (var i = 0; i < head.Fields.Count; i++)
        {
            var (name, value) = head.Fields[i];
            if (HopByHop.Contains(name) || (skipLength && name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            headers.Append(name, value);
        }
    }
}
