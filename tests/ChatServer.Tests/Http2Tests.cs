using System.Net;
using System.Net.WebSockets;

namespace ChatServer.Tests;

public sealed class Http2Tests
{
    [Fact]
    public async Task WebSocket_over_http2_extended_connect_joins_the_room()
    {
        // HTTP/2 only, without TLS (prior knowledge): an HTTP/1.1 upgrade could not succeed here.
        await using var server = await RunningChatServer.StartAsync(null, "--Kestrel:EndpointDefaults:Protocols=Http2");
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler());
        using var socket = new ClientWebSocket();
        socket.Options.HttpVersion = HttpVersion.Version20;
        socket.Options.HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact;
        using var deadline = Deadline.Start();

        await socket.ConnectAsync(server.WebSocketUri, invoker, deadline.Token);
        await socket.SendTextAsync("over h2", deadline.Token);

        Assert.Equal("over h2", await socket.ReceiveTextAsync(deadline.Token));
    }
}
