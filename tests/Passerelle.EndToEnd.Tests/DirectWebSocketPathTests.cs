using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// The direct path WebSocket handshakes take (the gateway writes the handshake to the backend itself and splices the
/// connections after the 101), seen byte for byte from both ends: a raw client and a scripted backend.
/// </summary>
public sealed class DirectWebSocketPathTests
{
    private const string Accept = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: tNpbgC8ZQDOcSkX7bhCzGp8trRk=\r\nX-Backend: pod-raw\r\n\r\n";

    [Fact]
    public async Task TheBackendGetsTheHandshakeAsApplicationGatewaySendsItAndTheBytesFlowBothWays()
    {
        var (backendStarted, seenHead, fromClient) = GreetingBackend();
        await using var backend = backendStarted;
        await using var gateway = await StartGatewayAsync(backend);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(
            "GET /chat/ws?room=1 HTTP/1.1\r\nHost: ws.contoso.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Keep-Alive: timeout=5\r\nSec-WebSocket-Key: 123\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-For: 10.1.2.3\r\n" +
            "Proxy-Authorization: Basic c2VjcmV0\r\nX-Custom: one\r\nX-Custom: two\r\n\r\n"));

        var head = await seenHead.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("GET /chat/ws?room=1 HTTP/1.1\r\n", head);
        Assert.Equal("ws.contoso.com", RawHttp.Field(head, "Host"));
        Assert.Equal("Upgrade", RawHttp.Field(head, "Connection"));
        Assert.Equal("websocket", RawHttp.Field(head, "Upgrade"));
        Assert.Equal("123", RawHttp.Field(head, "Sec-WebSocket-Key"));
        Assert.Equal("13", RawHttp.Field(head, "Sec-WebSocket-Version"));
        Assert.Equal(["one", "two"], RawHttp.Fields(head, "X-Custom"));
        Assert.Null(RawHttp.Field(head, "Keep-Alive"));
        Assert.Null(RawHttp.Field(head, "Proxy-Authorization"));
        var local = (System.Net.IPEndPoint)client.Client.LocalEndPoint!;
        Assert.Equal($"10.1.2.3, {local.Address.MapToIPv4()}:{local.Port}", RawHttp.Field(head, "X-Forwarded-For"));
        Assert.Equal("http", RawHttp.Field(head, "X-Forwarded-Proto"));
        Assert.Equal(gateway.Port.ToString(), RawHttp.Field(head, "X-Forwarded-Port"));
        Assert.Equal("ws.contoso.com", RawHttp.Field(head, "X-Original-Host"));
        Assert.Equal("/chat/ws?room=1", RawHttp.Field(head, "X-Original-URL"));
        Assert.Single(RawHttp.Fields(head, "Host"));

        var response = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", response);
        Assert.Equal("tNpbgC8ZQDOcSkX7bhCzGp8trRk=", RawHttp.Field(response, "Sec-WebSocket-Accept"));
        Assert.Equal("pod-raw", RawHttp.Field(response, "X-Backend"));
        Assert.Equal(RawHttp.ServerTextFrame("greeting"), await RawHttp.ReadExactlyAsync(stream, RawHttp.ServerTextFrame("greeting").Length));

        await stream.WriteAsync(RawHttp.ClientTextFrame("ping"));
        Assert.Equal(RawHttp.ClientTextFrame("ping"), await fromClient.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(RawHttp.ServerTextFrame("pong"), await RawHttp.ReadExactlyAsync(stream, RawHttp.ServerTextFrame("pong").Length));
    }

    [Fact]
    public async Task OnAnIPv6ListenAddressTheBackendGetsTheClientsIPv6AddressAndPortAndTheBytesFlowBothWays()
    {
        // The gateway run with --listen-address ::1, a client on [::1]: the front door reads both ends of the connection
        // from the kernel's AF_INET6 socket addresses.
        var (backendStarted, seenHead, fromClient) = GreetingBackend();
        await using var backend = backendStarted;
        await using var gateway = await StartGatewayAsync(backend, listenAddress: IPAddress.IPv6Loopback);

        using var client = await ConnectAsync(gateway, IPAddress.IPv6Loopback);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(
            "GET /chat/ws?room=1 HTTP/1.1\r\nHost: ws.contoso.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: 123\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-For: 10.1.2.3\r\n\r\n"));

        var head = await seenHead.WaitAsync(TimeSpan.FromSeconds(10));
        var local = (IPEndPoint)client.Client.LocalEndPoint!;
        Assert.Equal(IPAddress.IPv6Loopback, local.Address);
        Assert.StartsWith("GET /chat/ws?room=1 HTTP/1.1\r\n", head);
        Assert.Equal($"10.1.2.3, [::1]:{local.Port}", RawHttp.Field(head, "X-Forwarded-For"));
        Assert.Equal(gateway.Port.ToString(), RawHttp.Field(head, "X-Forwarded-Port"));
        Assert.Equal("http", RawHttp.Field(head, "X-Forwarded-Proto"));
        Assert.Equal("ws.contoso.com", RawHttp.Field(head, "X-Original-Host"));

        var response = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", response);
        Assert.Equal("pod-raw", RawHttp.Field(response, "X-Backend"));
        Assert.Equal(RawHttp.ServerTextFrame("greeting"), await RawHttp.ReadExactlyAsync(stream, RawHttp.ServerTextFrame("greeting").Length));

        await stream.WriteAsync(RawHttp.ClientTextFrame("ping"));
        Assert.Equal(RawHttp.ClientTextFrame("ping"), await fromClient.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(RawHttp.ServerTextFrame("pong"), await RawHttp.ReadExactlyAsync(stream, RawHttp.ServerTextFrame("pong").Length));

        // Served by the front door, not handed to Kestrel.
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Event.Id == 1203 && e.Message.Contains($":{local.Port} ", StringComparison.Ordinal));
    }

    /// <summary>
    /// The forwarded headers of a handshake the front door serves (one write) name the client as Kestrel's path names it
    /// (the same head in two writes, which the front door leaves to Kestrel), on an IPv6 port and on a dual-stack one,
    /// where an IPv4 client's address arrives IPv4-mapped and is forwarded as plain IPv4.
    /// </summary>
    [Theory]
    [InlineData("::1", "::1", "[::1]")]
    [InlineData("::", "127.0.0.1", "127.0.0.1")]
    [InlineData("::", "::1", "[::1]")]
    public async Task TheForwardedClientOnAnIPv6PortIsNamedAsKestrelNamesIt(string listenAddress, string clientAddress, string forwardedAddress)
    {
        var heads = Channel.CreateUnbounded<string>();
        await using var backend = ScriptedBackend.Start(async c =>
        {
            heads.Writer.TryWrite(c.Head);
            await c.WriteAsync(Accept);
            await c.ReadsEndAsync();
        });
        await using var gateway = await StartGatewayAsync(backend, listenAddress: IPAddress.Parse(listenAddress));
        const string requestLine = "GET /ws HTTP/1.1\r\n";
        const string handshake = requestLine + "Host: ws.contoso.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: 123\r\n" +
            "Sec-WebSocket-Version: 13\r\nX-Forwarded-For: 10.1.2.3\r\n\r\n";

        (string Head, int ClientPort) kestrel;
        using (var split = await ConnectAsync(gateway, IPAddress.Parse(clientAddress)))
        {
            var port = ((IPEndPoint)split.Client.LocalEndPoint!).Port;
            await split.GetStream().WriteAsync(Encoding.Latin1.GetBytes(requestLine));
            await Eventually.TrueAsync(
                () => gateway.Logs.Entries.Any(e => e.Event.Id == 1203 && e.Message.Contains($":{port} ", StringComparison.Ordinal) && e.Message.Contains("not complete", StringComparison.Ordinal)),
                $"the front door to hand the connection from port {port} to Kestrel");
            await split.GetStream().WriteAsync(Encoding.Latin1.GetBytes(handshake[requestLine.Length..]));
            Assert.StartsWith("HTTP/1.1 101 ", await RawHttp.ReadHeadAsync(split.GetStream()));
            kestrel = (await heads.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)), port);
        }

        using var whole = await ConnectAsync(gateway, IPAddress.Parse(clientAddress));
        var wholePort = ((IPEndPoint)whole.Client.LocalEndPoint!).Port;
        await whole.GetStream().WriteAsync(Encoding.Latin1.GetBytes(handshake));
        Assert.StartsWith("HTTP/1.1 101 ", await RawHttp.ReadHeadAsync(whole.GetStream()));
        var frontDoor = await heads.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Event.Id == 1203 && e.Message.Contains($":{wholePort} ", StringComparison.Ordinal));

        Assert.Equal($"10.1.2.3, {forwardedAddress}:{kestrel.ClientPort}", RawHttp.Field(kestrel.Head, "X-Forwarded-For"));
        Assert.Equal($"10.1.2.3, {forwardedAddress}:{wholePort}", RawHttp.Field(frontDoor, "X-Forwarded-For"));
        Assert.Equal(gateway.Port.ToString(), RawHttp.Field(kestrel.Head, "X-Forwarded-Port"));
        Assert.Equal(gateway.Port.ToString(), RawHttp.Field(frontDoor, "X-Forwarded-Port"));
    }

    [Theory]
    [InlineData("Content-Length: 18\r\n\r\norigin not allowed")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n6\r\norigin\r\nC\r\n not allowed\r\n0\r\n\r\n")]
    [InlineData("Connection: close\r\n\r\norigin not allowed")]
    public async Task AHandshakeTheBackendRefusesReachesTheClientAsTheBackendAnswered(string framingAndBody)
    {
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Reason: origin\r\n" + framingAndBody);
            c.Socket.Shutdown(SocketShutdown.Send);
            await c.ReadsEndAsync();
        });
        await using var gateway = await StartGatewayAsync(backend);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(
            "GET /ws HTTP/1.1\r\nHost: ws.contoso.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: 123\r\n" +
            "Sec-WebSocket-Version: 13\r\nOrigin: http://elsewhere.example\r\n\r\n"));

        var head = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", head);
        Assert.Equal("text/plain", RawHttp.Field(head, "Content-Type"));
        Assert.Equal("origin", RawHttp.Field(head, "X-Reason"));
        Assert.Null(RawHttp.Field(head, "Upgrade"));
        Assert.Equal("origin not allowed", await RawHttp.ReadBodyAsync(stream, head));
    }

    [Fact]
    public async Task ABackendAnswerThatIsNotHttpIsA502NamingTheEndpoint()
    {
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync("SSH-2.0-OpenSSH_9.2\r\n\r\n");
            await c.ReadsEndAsync();
        });
        await using var gateway = await StartGatewayAsync(backend);

        using var socket = new ClientWebSocket();
        var failure = await Record.ExceptionAsync(() => socket.ConnectAsync(new Uri($"ws://127.0.0.1:{gateway.Port}/ws"), CancellationToken.None));
        Assert.IsType<WebSocketException>(failure);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: 123\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 502 ", head);
        var body = await RawHttp.ReadBodyAsync(stream, head);
        Assert.Contains(backend.EndPoint.ToString(), body);
        Assert.Contains("status line", body);
    }

    [Fact]
    public async Task ABackendThatNeverAnswersTheHandshakeIsA504AfterTheRequestTimeout()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.ReadsEndAsync(TimeSpan.FromSeconds(30)); // says nothing until the gateway gives up
            held.TrySetResult();
        });
        await using var gateway = await StartGatewayAsync(backend, new Dictionary<string, string>
        {
            ["appgw.ingress.kubernetes.io/request-timeout"] = "1",
        });

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: 123\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        var head = await RawHttp.ReadHeadAsync(stream, TimeSpan.FromSeconds(15));
        Assert.StartsWith("HTTP/1.1 504 ", head);
        Assert.Contains("1 s", await RawHttp.ReadBodyAsync(stream, head));

        // The gateway closed its connection to the backend when it gave up.
        await held.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task WhenTheClientEndsItsConnectionTheBackendSeesTheEnd()
    {
        // The client's FIN reaches the backend as the end of its input, whichever path served the handshake (this one-write
        // handshake takes the front door; FrontDoorTests covers what the backend may still send after it).
        var sawEnd = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync(Accept);
            sawEnd.TrySetResult(await c.ReadsEndAsync());
        });
        await using var gateway = await StartGatewayAsync(backend);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: 123\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 101 ", await RawHttp.ReadHeadAsync(stream));

        client.Client.Shutdown(SocketShutdown.Send);
        Assert.True(await sawEnd.Task.WaitAsync(TimeSpan.FromSeconds(10)), "the backend received bytes instead of the end");
        Assert.Empty(await RawHttp.ReadToEndAsync(stream));
    }

    [Fact]
    public async Task WhenTheClientResetsItsConnectionTheGatewayClosesTheBackendsConnection()
    {
        // The backend is idle: its side ends only because the gateway stops reading it and closes it.
        var sawEnd = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync(Accept);
            try
            {
                sawEnd.TrySetResult(await c.ReadsEndAsync());
            }
            catch (IOException)
            {
                sawEnd.TrySetResult(true); // reset rather than closed: ended all the same
            }
        });
        await using var gateway = await StartGatewayAsync(backend);

        var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(
            "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: 123\r\nSec-WebSocket-Version: 13\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 101 ", await RawHttp.ReadHeadAsync(stream));

        client.Client.LingerState = new System.Net.Sockets.LingerOption(true, 0);
        client.Dispose(); // RST
        Assert.True(await sawEnd.Task.WaitAsync(TimeSpan.FromSeconds(10)), "the backend received bytes instead of the end");
    }

    [Fact]
    public async Task AOneMebibyteMessageCrossesIntactBothWays()
    {
        await using var pod = await TestBackend.StartAsync("pod-big");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

        using var socket = await WebSockets.ConnectAsync(gateway.Http);
        Assert.Equal("hello from pod-big", await socket.ReceiveTextAsync());
        var message = RandomNumberGenerator.GetBytes(1024 * 1024);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cts.Token);

        var echo = new MemoryStream();
        var buffer = new byte[64 * 1024];
        ValueWebSocketReceiveResult received;
        do
        {
            received = await socket.ReceiveAsync(buffer.AsMemory(), cts.Token);
            echo.Write(buffer, 0, received.Count);
        }
        while (!received.EndOfMessage);

        Assert.Equal(WebSocketMessageType.Binary, received.MessageType);
        Assert.True(message.AsSpan().SequenceEqual(echo.ToArray()), "the echo differs from the message");
    }

    /// <param name="listenAddress">The traffic port's address (--listen-address); 127.0.0.1 when not given.</param>
    private static Task<GatewayUnderTest> StartGatewayAsync(ScriptedBackend backend, IReadOnlyDictionary<string, string>? annotations = null,
        IPAddress? listenAddress = null) =>
        GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("raw", [backend.EndPoint]) + "---\n" + Manifests.Ingress("raw", "", "raw", annotations: annotations),
        }, listenAddress is null ? null : options => options.ListenAddress = listenAddress);

    private static async Task<TcpClient> ConnectAsync(GatewayUnderTest gateway, IPAddress? address = null)
    {
        var client = new TcpClient();
        await client.ConnectAsync(address ?? IPAddress.Loopback, gateway.Port);
        return client;
    }

    /// <summary>
    /// A backend that takes the handshake, answers 101 and a "greeting" frame in one write (the frame must reach the
    /// client after the 101, intact), reads one "ping" frame and answers "pong": the head it saw, and the ping's bytes.
    /// </summary>
    private static (ScriptedBackend Backend, Task<string> Head, Task<byte[]> FromClient) GreetingBackend()
    {
        var seenHead = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var fromClient = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var backend = ScriptedBackend.Start(async c =>
        {
            seenHead.TrySetResult(c.Head);
            await c.WriteAsync([.. Encoding.Latin1.GetBytes(Accept), .. RawHttp.ServerTextFrame("greeting")]);
            fromClient.TrySetResult(await c.ReadExactlyAsync(RawHttp.ClientTextFrame("ping").Length));
            await c.WriteAsync(RawHttp.ServerTextFrame("pong"));
            await c.ReadsEndAsync();
        });
        return (backend, seenHead.Task, fromClient.Task);
    }
}
