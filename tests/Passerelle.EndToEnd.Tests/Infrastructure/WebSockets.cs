using System.Net;
using System.Net.WebSockets;
using System.Text;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>Client-side helpers for talking to the gateway with .NET's own WebSocket client.</summary>
internal static class WebSockets
{
    public static async Task<ClientWebSocket> ConnectAsync(Uri http, string path = "/ws", string? host = null, bool http2 = false)
    {
        var socket = new ClientWebSocket();
        if (host is not null)
        {
            socket.Options.SetRequestHeader("Host", host);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var uri = new Uri($"ws://{http.Authority}{path}");
        if (http2)
        {
            // RFC 8441: WebSocket over an HTTP/2 stream, here over cleartext HTTP/2 with prior knowledge.
            socket.Options.HttpVersion = HttpVersion.Version20;
            socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
            await socket.ConnectAsync(uri, new HttpMessageInvoker(new SocketsHttpHandler()), cts.Token);
        }
        else
        {
            await socket.ConnectAsync(uri, cts.Token);
        }

        return socket;
    }

    public static async Task<string> ReceiveTextAsync(this WebSocket socket, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[64 * 1024];
        var text = new StringBuilder();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketException($"closed by the peer: {result.CloseStatus} {result.CloseStatusDescription}");
            }

            text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
            if (result.EndOfMessage)
            {
                return text.ToString();
            }
        }
    }

    public static async Task<string> EchoAsync(this WebSocket socket, string message)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, cts.Token);
        return await socket.ReceiveTextAsync();
    }
}
