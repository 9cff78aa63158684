using System.Net.WebSockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace ChatServer;

/// <summary><c>/ws</c>: turns the request into a WebSocket and makes it a member of the room until it closes.</summary>
internal static class ChatSocketEndpoint
{
    public static async Task HandleAsync(
        HttpContext context,
        Hub hub,
        OriginPolicy originPolicy,
        IOptions<ChatServerOptions> options,
        IHostApplicationLifetime lifetime,
        ILogger<Hub> logger)
    {
        var settings = options.Value;
        var request = context.Request;
        if (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            await RejectAsync(new(StatusCodes.Status503ServiceUnavailable, "the server is shutting down"));
            return;
        }

        WebSocket socket;
        if (HttpProtocol.IsHttp2(request.Protocol) || HttpProtocol.IsHttp3(request.Protocol))
        {
            // RFC 8441 (and RFC 9220) extended CONNECT: no key, no accept hash, nothing to be lenient about.
            if (!context.WebSockets.IsWebSocketRequest)
            {
                await RejectAsync(new(StatusCodes.Status400BadRequest, "not a WebSocket request (expected an extended CONNECT with :protocol websocket)"));
                return;
            }
            if (!originPolicy.IsAllowed(request))
            {
                await RejectOriginAsync();
                return;
            }
            socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = settings.PingInterval,
                KeepAliveTimeout = settings.PongTimeout,
            });
        }
        else
        {
            var upgrade = context.Features.Get<IHttpUpgradeFeature>();
            if (LenientWebSocketHandshake.Check(request, upgrade, settings.StrictHandshake) is { } rejection)
            {
                await RejectAsync(rejection);
                return;
            }
            if (!originPolicy.IsAllowed(request))
            {
                await RejectOriginAsync();
                return;
            }
            socket = await LenientWebSocketHandshake.AcceptAsync(context, upgrade!, new WebSocketCreationOptions
            {
                IsServer = true,
                KeepAliveInterval = settings.PingInterval,
                KeepAliveTimeout = settings.PongTimeout,
            });
        }

        using (socket)
        {
            var client = new Client(context.Connection.Id, socket, hub, settings, logger);
            await hub.JoinAsync(client, context.RequestAborted);
            try
            {
                await client.RunAsync(context.RequestAborted);
            }
            finally
            {
                await hub.LeaveAsync(client);
            }
        }

        Task RejectAsync(LenientWebSocketHandshake.Rejection rejection)
        {
            Log.HandshakeRejected(logger, settings.ReplicaName, context.Connection.RemoteIpAddress?.ToString(), rejection.StatusCode, rejection.Reason);
            return LenientWebSocketHandshake.RejectAsync(context, rejection);
        }

        Task RejectOriginAsync()
        {
            Log.OriginRejected(logger, settings.ReplicaName, request.Headers.Origin.ToString(), request.Host.Value);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return context.Response.WriteAsync("cross-origin WebSocket requests are not allowed\n");
        }
    }
}
