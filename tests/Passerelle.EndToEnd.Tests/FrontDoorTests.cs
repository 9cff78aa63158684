using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// The front door on the traffic port, seen from raw clients: handshakes it serves itself (the whole head in the
/// first bytes) and connections it hands to Kestrel unread (event 1203), which must be served as they were before.
/// </summary>
public sealed class FrontDoorTests
{
    private const string Key = "dGhlIHNhbXBsZSBub25jZQ==";

    private const string Accept = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    private static readonly string Handshake =
        $"GET /ws HTTP/1.1\r\nHost: ws.contoso.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {Key}\r\nSec-WebSocket-Version: 13\r\n\r\n";

    [Fact]
    public async Task AHandshakeWhoseHeadComesInTwoWritesIsServedByKestrelAndTheMessagesFlow()
    {
        await using var pod = await TestBackend.StartAsync("pod-split");
        await using var gateway = await StartGatewayAsync(pod.EndPoint);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync("GET /ws HTTP/1.1\r\n"u8.ToArray());
        await HandedToKestrelAsync(gateway, client, "not complete");
        await stream.WriteAsync(Encoding.Latin1.GetBytes(Handshake["GET /ws HTTP/1.1\r\n".Length..]));

        var head = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", head);
        Assert.Equal("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", RawHttp.Field(head, "Sec-WebSocket-Accept"));
        await AssertEchoesAsync(stream, "pod-split");
        Assert.Equal(1, pod.WebSocketsAccepted);
    }

    [Fact]
    public async Task AKeepAliveConnectionCanUpgradeAfterAPlainRequest()
    {
        await using var pod = await TestBackend.StartAsync("pod-keep");
        await using var gateway = await StartGatewayAsync(pod.EndPoint);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync("GET /whoami HTTP/1.1\r\nHost: ws.contoso.com\r\n\r\n"u8.ToArray());
        var first = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 200 ", first);
        Assert.Null(RawHttp.Field(first, "Connection"));
        Assert.Equal("pod-keep", await RawHttp.ReadBodyAsync(stream, first));
        await HandedToKestrelAsync(gateway, client, "Upgrade");

        await stream.WriteAsync(Encoding.Latin1.GetBytes(Handshake));
        var second = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", second);
        await AssertEchoesAsync(stream, "pod-keep");
        Assert.Equal(1, pod.WebSocketsAccepted);
    }

    [Theory]
    [InlineData("/w%73", "ws", "/ws")]
    [InlineData("/chat/w%73?room=%31", "chat", "/chat/ws?room=%31")]
    [InlineData("/chat%2Fws", "rest", "/chat%2Fws")] // an encoded slash separates no path segments
    [InlineData("/chat/%2E%2E/ws", "ws", "/ws")] // Kestrel decodes the dots, then removes the dot segments
    public async Task APercentEncodedPathIsRoutedAsKestrelDecodesIt(string target, string service, string backendTarget)
    {
        var heads = new Dictionary<string, TaskCompletionSource<string>>
        {
            ["ws"] = new(TaskCreationOptions.RunContinuationsAsynchronously),
            ["chat"] = new(TaskCreationOptions.RunContinuationsAsynchronously),
            ["rest"] = new(TaskCreationOptions.RunContinuationsAsynchronously),
        };

        ScriptedBackend Backend(string name) => ScriptedBackend.Start(async c =>
        {
            heads[name].TrySetResult(c.Head);
            await c.WriteAsync(Accept);
            await c.ReadsEndAsync();
        });

        await using var ws = Backend("ws");
        await using var chat = Backend("chat");
        await using var rest = Backend("rest");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = string.Join("---\n",
                Manifests.Service("ws", [ws.EndPoint]), Manifests.Ingress("ws", "", "ws", path: "/ws"),
                Manifests.Service("chat", [chat.EndPoint]), Manifests.Ingress("chat", "", "chat", path: "/chat/ws"),
                Manifests.Service("rest", [rest.EndPoint]), Manifests.Ingress("rest", "", "rest", path: "/")),
        });

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(Handshake.Replace("GET /ws ", $"GET {target} ")));

        Assert.StartsWith("HTTP/1.1 101 ", await RawHttp.ReadHeadAsync(stream));
        var head = await heads[service].Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith($"GET {backendTarget} HTTP/1.1\r\n", head);
        Assert.All(heads.Where(h => h.Key != service), h => Assert.False(h.Value.Task.IsCompleted, $"{h.Key} received the handshake too"));
        await HandedToKestrelAsync(gateway, client, "not a plain GET");
    }

    [Theory]
    [InlineData("Content-Length: 18\r\n\r\norigin not allowed")]
    [InlineData("Transfer-Encoding: chunked\r\n\r\n6\r\norigin\r\nC\r\n not allowed\r\n0\r\n\r\n")]
    [InlineData("Connection: close\r\n\r\norigin not allowed")]
    public async Task AnUpgradeTheBackendRefusesIsAnsweredWithItsStatusAndBodyAndTheConnectionCloses(string framingAndBody)
    {
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nX-Reason: origin\r\n" + framingAndBody);
            c.Socket.Shutdown(SocketShutdown.Send);
            await c.ReadsEndAsync();
        });
        await using var gateway = await StartGatewayAsync(backend.EndPoint);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(Handshake));

        var head = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", head);
        Assert.Equal("close", RawHttp.Field(head, "Connection"));
        Assert.Equal("text/plain", RawHttp.Field(head, "Content-Type"));
        Assert.Equal("origin", RawHttp.Field(head, "X-Reason"));
        Assert.Null(RawHttp.Field(head, "Upgrade"));
        Assert.Single(RawHttp.Fields(head, "Connection"));
        Assert.Equal("origin not allowed", await RawHttp.ReadBodyAsync(stream, head));
        Assert.Empty(await RawHttp.ReadToEndAsync(stream));
        AssertServedByTheFrontDoor(gateway, client);
    }

    /// <summary>
    /// RFC 9110 §8.6: no Content-Length in a 204, and none in a 304 but the length a 200 would have had; neither has
    /// content, so neither needs framing (Kestrel's path sends none).
    /// </summary>
    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nX-Reason: none\r\n\r\n", "HTTP/1.1 204 No Content\r\n")]
    [InlineData("HTTP/1.1 304 Not Modified\r\nX-Reason: none\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n")]
    public async Task ARefusalWithoutContentIsPassedOnWithoutContentFraming(string answer, string statusLine)
    {
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync(answer);
            c.Socket.Shutdown(SocketShutdown.Send);
            await c.ReadsEndAsync();
        });
        await using var gateway = await StartGatewayAsync(backend.EndPoint);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(Handshake));

        var head = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith(statusLine, head);
        Assert.Equal("none", RawHttp.Field(head, "X-Reason"));
        Assert.Null(RawHttp.Field(head, "Transfer-Encoding"));
        Assert.Null(RawHttp.Field(head, "Content-Length"));
        Assert.Equal("close", RawHttp.Field(head, "Connection"));
        Assert.Empty(await RawHttp.ReadToEndAsync(stream));
        AssertServedByTheFrontDoor(gateway, client);
    }

    [Fact]
    public async Task AClientsHalfCloseReachesTheBackendWhichCanStillSendItsLastFrame()
    {
        var sawEnd = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync(Accept);
            var ended = await c.ReadsEndAsync();
            sawEnd.TrySetResult(ended);
            if (ended)
            {
                await c.WriteAsync(RawHttp.ServerTextFrame("last words"));
            }
        });
        await using var gateway = await StartGatewayAsync(backend.EndPoint);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(Handshake));
        Assert.StartsWith("HTTP/1.1 101 ", await RawHttp.ReadHeadAsync(stream));
        AssertServedByTheFrontDoor(gateway, client);

        client.Client.Shutdown(SocketShutdown.Send);
        Assert.True(await sawEnd.Task.WaitAsync(TimeSpan.FromSeconds(10)), "the backend received bytes instead of the end");
        Assert.Equal(RawHttp.ServerTextFrame("last words"), await RawHttp.ReadToEndAsync(stream));
    }

    [Fact]
    public async Task Http2WithPriorKnowledgeAndPlainHttpStillWorkOnTheTrafficPort()
    {
        await using var pod = await TestBackend.StartAsync("pod-h");
        await using var gateway = await StartGatewayAsync(pod.EndPoint);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        using var h2 = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.Http, "/whoami"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        Assert.Equal(HttpStatusCode.OK, h2.StatusCode);
        Assert.Equal(HttpVersion.Version20, h2.Version);
        Assert.Equal("pod-h", await h2.Content.ReadAsStringAsync());

        using var h1 = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(gateway.Http, "/whoami"))
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        });
        Assert.Equal(HttpStatusCode.OK, h1.StatusCode);
        Assert.Equal(HttpVersion.Version11, h1.Version);
        Assert.Equal("pod-h", await h1.Content.ReadAsStringAsync());

        // A WebSocket over HTTP/2 (RFC 8441) too.
        using var socket = await WebSockets.ConnectAsync(gateway.Http, http2: true);
        Assert.Equal("hello from pod-h", await socket.ReceiveTextAsync());
        Assert.Equal("over h2", await socket.EchoAsync("over h2"));
    }

    [Fact]
    public async Task ClientsThatSayNothingDoNotKeepOthersWaiting()
    {
        await using var pod = await TestBackend.StartAsync("pod-silent");
        await using var gateway = await StartGatewayAsync(pod.EndPoint);

        // One connects and leaves without a word; another connects and stays silent while a handshake is served.
        using (var leaving = await ConnectAsync(gateway))
        {
            var said = leaving.GetStream();
            leaving.Client.Shutdown(SocketShutdown.Send);
            Assert.Empty(await RawHttp.ReadToEndAsync(said));
        }

        using var silent = await ConnectAsync(gateway);
        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(Handshake));
        Assert.StartsWith("HTTP/1.1 101 ", await RawHttp.ReadHeadAsync(stream));
        await AssertEchoesAsync(stream, "pod-silent");
        AssertServedByTheFrontDoor(gateway, client);

        // The silent one is still open, waiting: it is neither closed nor answered.
        Assert.Equal(0, silent.Available);
        Assert.False(silent.Client.Poll(0, SelectMode.SelectRead), "the silent connection was answered or closed");
    }

    [Theory]
    [InlineData(5)]
    [InlineData(20 * 1024)] // the frame goes on past the 8 KiB the front door looks at
    public async Task BytesSentWithTheHandshakeReachTheBackendIntact(int payloadLength)
    {
        var frame = ClientBinaryFrame(RandomNumberGenerator.GetBytes(payloadLength));
        var received = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync(Accept);
            received.TrySetResult(await c.ReadExactlyAsync(frame.Length));
            await c.WriteAsync(RawHttp.ServerTextFrame("got it"));
            await c.ReadsEndAsync();
        });
        await using var gateway = await StartGatewayAsync(backend.EndPoint);

        using var client = await ConnectAsync(gateway);
        var stream = client.GetStream();
        await stream.WriteAsync((byte[])[.. Encoding.Latin1.GetBytes(Handshake), .. frame]);

        var head = await RawHttp.ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 101 ", head);
        var atBackend = await received.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(frame.AsSpan().SequenceEqual(atBackend), "the backend received other bytes");
        Assert.Equal(RawHttp.ServerTextFrame("got it"), await RawHttp.ReadExactlyAsync(stream, RawHttp.ServerTextFrame("got it").Length));
        AssertServedByTheFrontDoor(gateway, client);
    }

    /// <summary>
    /// A head sent in one write (which the front door may serve) is answered as Kestrel answers the same head sent in
    /// two writes (which the front door leaves to Kestrel).
    /// </summary>
    [Theory]
    [InlineData("Host: ws.contoso.com")]
    [InlineData("Host: ws.contoso.com:8080")]
    [InlineData("Host: ws.contoso.com:")]
    [InlineData("Host: under_score.contoso.com")]
    [InlineData("Host: [::1]:8080")]
    [InlineData("Host: 127.0.0.1")]
    [InlineData("Host: ws.contoso.com\r\nX-Empty:")]
    [InlineData("Host: ws.contoso.com\r\nUpgrade:")]
    [InlineData("Host: ws.contoso.com\r\nTransfer-Encoding:")]
    [InlineData("Host: ws.contoso.com\r\nContent-Length:")]
    [InlineData("Host:\r\nHost: ws.contoso.com")]
    [InlineData("Host: ws.contoso.com:http")]
    [InlineData("Host: ws.contoso.com:80:80")]
    [InlineData("Host: [::1")]
    public async Task AHeadInOneWriteIsAnsweredAsKestrelAnswersItInTwo(string fields)
    {
        await using var backend = ScriptedBackend.Start(async c =>
        {
            await c.WriteAsync(Accept);
            await c.ReadsEndAsync();
        });
        await using var gateway = await StartGatewayAsync(backend.EndPoint);
        var head = Handshake.Replace("Host: ws.contoso.com", fields);
        const string requestLine = "GET /ws HTTP/1.1\r\n";

        string kestrel;
        using (var split = await ConnectAsync(gateway))
        {
            await split.GetStream().WriteAsync(Encoding.Latin1.GetBytes(requestLine));
            await HandedToKestrelAsync(gateway, split, "not complete");
            await split.GetStream().WriteAsync(Encoding.Latin1.GetBytes(head[requestLine.Length..]));
            kestrel = StatusLine(await RawHttp.ReadHeadAsync(split.GetStream()));
        }

        using var whole = await ConnectAsync(gateway);
        await whole.GetStream().WriteAsync(Encoding.Latin1.GetBytes(head));
        Assert.Equal(kestrel, StatusLine(await RawHttp.ReadHeadAsync(whole.GetStream())));
    }

    private static Task<GatewayUnderTest> StartGatewayAsync(IPEndPoint pod) =>
        GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

    private static async Task<TcpClient> ConnectAsync(GatewayUnderTest gateway)
    {
        var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, gateway.Port);
        return client;
    }

    /// <summary>Waits for the front door to log that it handed this client's connection to Kestrel (event 1203).</summary>
    private static Task HandedToKestrelAsync(GatewayUnderTest gateway, TcpClient client, string reason)
    {
        var who = client.Client.LocalEndPoint!.ToString()!;
        return Eventually.TrueAsync(() => HandedToKestrel(gateway, who).Any(m => m.Contains(reason, StringComparison.Ordinal)),
            $"event 1203 for {who} with \"{reason}\"; logged: {string.Join(" | ", HandedToKestrel(gateway, who))}");
    }

    /// <summary>The front door served this client's handshake: it did not hand the connection to Kestrel.</summary>
    private static void AssertServedByTheFrontDoor(GatewayUnderTest gateway, TcpClient client) =>
        Assert.Empty(HandedToKestrel(gateway, client.Client.LocalEndPoint!.ToString()!));

    private static IEnumerable<string> HandedToKestrel(GatewayUnderTest gateway, string client) =>
        gateway.Logs.Entries
            .Where(e => e.Event.Id == 1203 && e.Category == "Passerelle.Proxy.FrontDoor.FrontDoorListener" && e.Message.Contains($" {client} ", StringComparison.Ordinal))
            .Select(e => e.Message);

    /// <summary>The test backend's greeting, then an echo of a masked client frame.</summary>
    private static async Task AssertEchoesAsync(Stream stream, string pod)
    {
        var greeting = RawHttp.ServerTextFrame("hello from " + pod);
        Assert.Equal(greeting, await RawHttp.ReadExactlyAsync(stream, greeting.Length));
        await stream.WriteAsync(RawHttp.ClientTextFrame("ping from the client"));
        var echo = RawHttp.ServerTextFrame("ping from the client");
        Assert.Equal(echo, await RawHttp.ReadExactlyAsync(stream, echo.Length));
    }

    private static string StatusLine(string head) => head[..head.IndexOf("\r\n", StringComparison.Ordinal)];

    /// <summary>A masked binary frame, as a client sends it, for payloads under 64 KiB.</summary>
    private static byte[] ClientBinaryFrame(byte[] payload)
    {
        byte[] mask = [0x0A, 0xB0, 0x0C, 0xD0];
        byte[] header = payload.Length < 126
            ? [0x82, (byte)(0x80 | payload.Length)]
            : [0x82, 0x80 | 126, (byte)(payload.Length >> 8), (byte)payload.Length];
        var frame = new byte[header.Length + 4 + payload.Length];
        header.CopyTo(frame, 0);
        mask.CopyTo(frame, header.Length);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[header.Length + 4 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }

        return frame;
    }
}
