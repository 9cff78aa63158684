using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;

namespace ChatServer.Tests;

public sealed class HandshakeTests
{
    [Fact]
    public async Task Founding_document_curl_handshake_with_key_123_is_upgraded_and_then_echoes()
    {
        await using var server = await RunningChatServer.StartAsync();
        using var deadline = Deadline.Start();
        using var client = await RawWebSocketClient.ConnectAsync(server.Port, deadline.Token);

        var response = await client.SendRequestAsync(RawWebSocketClient.Handshake(key: "123"), deadline.Token);

        Assert.Equal(101, response.StatusCode);
        Assert.Equal("websocket", response.Headers["Upgrade"], ignoreCase: true);
        Assert.Equal(RawWebSocketClient.ExpectedAccept("123"), response.Headers["Sec-WebSocket-Accept"]);
        await client.SendFrameAsync(RawFrame.Text, "hello"u8.ToArray(), deadline.Token);
        var echo = await client.ReadFrameAsync(deadline.Token);
        Assert.NotNull(echo);
        Assert.Equal(RawFrame.Text, echo.Opcode);
        Assert.Equal("hello", Encoding.UTF8.GetString(echo.Payload));
    }

    [Fact]
    public async Task Rfc_6455_sample_key_gets_the_rfc_sample_accept()
    {
        await using var server = await RunningChatServer.StartAsync();
        using var deadline = Deadline.Start();
        using var client = await RawWebSocketClient.ConnectAsync(server.Port, deadline.Token);

        var response = await client.SendRequestAsync(RawWebSocketClient.Handshake(key: "dGhlIHNhbXBsZSBub25jZQ=="), deadline.Token);

        Assert.Equal(101, response.StatusCode);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", response.Headers["Sec-WebSocket-Accept"]); // RFC 6455 §1.3
    }

    [Fact]
    public async Task Strict_handshake_refuses_key_123_with_400()
    {
        await using var server = await RunningChatServer.StartAsync(null, "--strict-handshake");
        using var deadline = Deadline.Start();
        using var client = await RawWebSocketClient.ConnectAsync(server.Port, deadline.Token);

        var response = await client.SendRequestAsync(RawWebSocketClient.Handshake(key: "123"), deadline.Token);

        Assert.Equal(400, response.StatusCode);
    }

    [Fact]
    public async Task Strict_handshake_accepts_a_sixteen_byte_nonce()
    {
        await using var server = await RunningChatServer.StartAsync(options => options.StrictHandshake = true);
        using var deadline = Deadline.Start();
        using var client = await RawWebSocketClient.ConnectAsync(server.Port, deadline.Token);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

        var response = await client.SendRequestAsync(RawWebSocketClient.Handshake(key: key), deadline.Token);

        Assert.Equal(101, response.StatusCode);
        Assert.Equal(RawWebSocketClient.ExpectedAccept(key), response.Headers["Sec-WebSocket-Accept"]);
    }

    [Theory]
    [InlineData("13", "keep-alive, Upgrade", "123", 101)]
    [InlineData("13", "keep-alive", "123", 400)]
    [InlineData("13", "Upgrade", "", 400)]
    [InlineData("8", "Upgrade", "123", 426)]
    public async Task Handshake_headers_are_checked(string version, string connection, string key, int expectedStatus)
    {
        await using var server = await RunningChatServer.StartAsync();
        using var deadline = Deadline.Start();
        using var client = await RawWebSocketClient.ConnectAsync(server.Port, deadline.Token);

        var response = await client.SendRequestAsync(
            RawWebSocketClient.Handshake(key: key, version: version, connection: connection), deadline.Token);

        Assert.Equal(expectedStatus, response.StatusCode);
        if (expectedStatus == 426)
        {
            Assert.Equal("13", response.Headers["Sec-WebSocket-Version"]); // RFC 6455 §4.4
        }
    }

    [Fact]
    public async Task Cross_site_origin_is_refused_with_403()
    {
        await using var server = await RunningChatServer.StartAsync();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", "http://evil.example");
        socket.Options.CollectHttpResponseDetails = true;
        using var deadline = Deadline.Start();

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(server.WebSocketUri, deadline.Token));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    [Fact]
    public async Task Same_origin_is_accepted()
    {
        await using var server = await RunningChatServer.StartAsync();

        using var socket = await server.ConnectAsync(options => options.SetRequestHeader("Origin", $"http://127.0.0.1:{server.Port}"));

        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Theory]
    [InlineData("https://chat.example.com", true)]
    [InlineData("https://CHAT.example.com:443", true)]
    [InlineData("http://chat.example.com", false)]
    [InlineData("https://other.example.com", false)]
    public async Task Allowed_origins_come_from_configuration(string origin, bool accepted)
    {
        await using var server = await RunningChatServer.StartAsync(null, "--ChatServer:AllowedOrigins:0=https://chat.example.com");
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", origin);
        socket.Options.CollectHttpResponseDetails = true;
        using var deadline = Deadline.Start();

        var connecting = socket.ConnectAsync(server.WebSocketUri, deadline.Token);

        if (accepted)
        {
            await connecting;
            Assert.Equal(WebSocketState.Open, socket.State);
        }
        else
        {
            await Assert.ThrowsAsync<WebSocketException>(() => connecting);
            Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
        }
    }
}
