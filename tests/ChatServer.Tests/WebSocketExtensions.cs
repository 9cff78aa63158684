using System.Net.WebSockets;
using System.Text;

namespace ChatServer.Tests;

internal readonly record struct Received(WebSocketMessageType Type, string Text, WebSocketCloseStatus? CloseStatus);

internal static class WebSocketExtensions
{
    public static Task SendTextAsync(this WebSocket socket, string text, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    /// <summary>Reads one whole message, or the Close frame.</summary>
    public static async Task<Received> ReceiveMessageAsync(this WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return new(result.MessageType, result.CloseStatusDescription ?? "", result.CloseStatus);
            }
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return new(result.MessageType, Encoding.UTF8.GetString(message.ToArray()), null);
            }
        }
    }

    public static async Task<string> ReceiveTextAsync(this WebSocket socket, CancellationToken cancellationToken)
    {
        var received = await socket.ReceiveMessageAsync(cancellationToken);
        Assert.Equal(WebSocketMessageType.Text, received.Type);
        return received.Text;
    }

    /// <summary>Proves the socket is a member of the room: the room echoes to every member, the sender included.</summary>
    public static async Task JoinedAsync(this WebSocket socket, string name, CancellationToken cancellationToken)
    {
        var token = $"{name} is here {Guid.NewGuid()}";
        await socket.SendTextAsync(token, cancellationToken);
        while (await socket.ReceiveTextAsync(cancellationToken) != token)
        {
        }
    }

    /// <summary>Makes both sockets members of one room, possibly through two replicas, and reads the second one's arrival on the first.</summary>
    public static async Task JoinedWithAsync(this WebSocket first, WebSocket second, CancellationToken cancellationToken)
    {
        await first.JoinedAsync("first", cancellationToken);
        await second.JoinedAsync("second", cancellationToken);
        Assert.StartsWith("second is here", await first.ReceiveTextAsync(cancellationToken));
    }

    /// <summary>
    /// The message reaches the other socket and comes back to the sender as each one's next message, so that anything
    /// left over from before, or a second copy of an earlier message, fails the test.
    /// </summary>
    public static async Task SaysToAsync(this WebSocket from, WebSocket to, string text, CancellationToken cancellationToken)
    {
        await from.SendTextAsync(text, cancellationToken);
        Assert.Equal(text, await to.ReceiveTextAsync(cancellationToken));
        Assert.Equal(text, await from.ReceiveTextAsync(cancellationToken));
    }
}
