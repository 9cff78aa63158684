using System.Collections.Concurrent;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;

namespace Passerelle.Health.Tests.Infrastructure;

/// <summary>What the test backends answer.</summary>
internal static class Handlers
{
    public static RequestDelegate Status(int status) => context =>
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    };

    /// <summary>
    /// A WebSocket-only endpoint, as gorilla/websocket servers are: 400 to a plain GET, the handshake to a WebSocket
    /// request, then the type of the first frame the server receives is recorded and a Close is answered with a Close.
    /// </summary>
    public static RequestDelegate WebSocketOnly(ConcurrentQueue<WebSocketMessageType>? received = null) => async context =>
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = 400;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var result = await socket.ReceiveAsync(new ArraySegment<byte>(new byte[1024]), context.RequestAborted);
        received?.Enqueue(result.MessageType);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
    };
}
