using System.Net;
using System.Net.WebSockets;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>The data plane on real sockets: protocols, load balancing, forwarded headers and the gateway's own errors.</summary>
public sealed class DataPlaneTests
{
    [Fact]
    public async Task Http2WithPriorKnowledgeAndHttp11ShareTheOnePort()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

        var (h2Exit, h2) = await ExternalProcess.RunAsync(TimeSpan.FromSeconds(20), "curl", "-sS", "--http2-prior-knowledge",
            "-w", "\nversion=%{http_version} status=%{http_code}", $"{gateway.Http}whoami");
        Assert.True(h2Exit == 0, h2);
        Assert.Contains("pod-a", h2);
        Assert.Contains("version=2 status=200", h2);

        var (h1Exit, h1) = await ExternalProcess.RunAsync(TimeSpan.FromSeconds(20), "curl", "-sS", "--http1.1",
            "-w", "\nversion=%{http_version} status=%{http_code}", $"{gateway.Http}whoami");
        Assert.True(h1Exit == 0, h1);
        Assert.Contains("version=1.1 status=200", h1);
    }

    [Fact]
    public async Task WebSocketOverHttp2ReachesAnHttp11Backend()
    {
        await using var pod = await TestBackend.StartAsync("pod-h2");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

        using var socket = await WebSockets.ConnectAsync(gateway.Http, http2: true);
        Assert.Equal("hello from pod-h2", await socket.ReceiveTextAsync());
        Assert.Equal("over h2", await socket.EchoAsync("over h2"));
        Assert.Equal(1, pod.WebSocketsAccepted);
    }

    [Fact]
    public async Task BothReplicasReceiveWebSocketConnections()
    {
        await using var podA = await TestBackend.StartAsync("pod-a");
        await using var podB = await TestBackend.StartAsync("pod-b");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [podA.EndPoint, podB.EndPoint]) + "---\n" + Manifests.Ingress("web", "ws.contoso.com", "web"),
        });

        var greetings = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            using var socket = await WebSockets.ConnectAsync(gateway.Http, host: "ws.contoso.com");
            greetings.Add(await socket.ReceiveTextAsync());
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }

        Assert.Equal(5, greetings.Count(g => g == "hello from pod-a"));
        Assert.Equal(5, greetings.Count(g => g == "hello from pod-b"));
    }

    [Fact]
    public async Task ForwardedHeadersAreAddedAsApplicationGatewayAddsThemAndHostIsKept()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "ws.contoso.com", "web"),
        });

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}headers?x=1");
        request.Headers.Host = "ws.contoso.com";
        request.Headers.Add("X-Forwarded-For", "203.0.113.7:5000");
        var text = await (await client.SendAsync(request)).Content.ReadAsStringAsync();

        Assert.StartsWith("GET /headers?x=1 HTTP/1.1", text);
        Assert.Contains("Host: ws.contoso.com\n", text);
        Assert.Matches(@"X-Forwarded-For: 203\.0\.113\.7:5000, 127\.0\.0\.1:\d+\n", text);
        Assert.Contains("X-Forwarded-Proto: http\n", text);
        Assert.Contains($"X-Forwarded-Port: {gateway.Port}\n", text);
        Assert.Contains("X-Original-Host: ws.contoso.com\n", text);
        Assert.Contains("X-Original-URL: /headers?x=1\n", text);
    }

    [Fact]
    public async Task BackendPathPrefixAndHostnameAnnotationsShapeWhatTheBackendReceives()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" +
                Manifests.Ingress("web", "ws.contoso.com", "web", path: "/api/*", pathType: "ImplementationSpecific", annotations: new Dictionary<string, string>
                {
                    ["appgw.ingress.kubernetes.io/backend-path-prefix"] = "/",
                    ["appgw.ingress.kubernetes.io/backend-hostname"] = "internal.contoso.local",
                }),
        });

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}api/headers?x=1") { Headers = { Host = "ws.contoso.com" } };
        var text = await (await client.SendAsync(request)).Content.ReadAsStringAsync();

        Assert.StartsWith("GET /headers?x=1 HTTP/1.1", text);
        Assert.Contains("Host: internal.contoso.local\n", text);
        Assert.Contains("X-Original-Host: ws.contoso.com\n", text);
        Assert.Contains("X-Original-URL: /api/headers?x=1\n", text);
    }

    [Fact]
    public async Task NoRouteIs404AndNoEndpointIs502NamingTheService()
    {
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("empty", []) + "---\n" + Manifests.Ingress("web", "ws.contoso.com", "empty"),
        });
        using var client = new HttpClient();

        using var unrouted = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}ws");
        unrouted.Headers.Host = "elsewhere.example";
        var notFound = await client.SendAsync(unrouted);
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        Assert.Equal("text/plain", notFound.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no route for host \"elsewhere.example\" and path \"/ws\"", await notFound.Content.ReadAsStringAsync());

        using var routed = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}ws");
        routed.Headers.Host = "ws.contoso.com";
        var badGateway = await client.SendAsync(routed);
        Assert.Equal(HttpStatusCode.BadGateway, badGateway.StatusCode);
        Assert.Contains("Service default/empty", await badGateway.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnEndpointThatRefusesConnectionsCostsNoFailedRequestOrHandshake()
    {
        await using var live = await TestBackend.StartAsync("live");
        var dead = new IPEndPoint(Loopback.NextAddress(), live.EndPoint.Port);
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [dead, live.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });
        using var client = new HttpClient();

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("live", await client.GetStringAsync($"{gateway.Http}whoami"));
            using var socket = await WebSockets.ConnectAsync(gateway.Http);
            Assert.Equal("hello from live", await socket.ReceiveTextAsync());
        }

        Assert.True(gateway.Logs.Count($"Forwarding to {dead}") >= 1, gateway.Logs.Dump());
    }

    [Fact]
    public async Task TheRequestTimeoutCutsSlowRequestsButNeverAnUpgradedConnection()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" +
                Manifests.Ingress("web", "", "web", annotations: new Dictionary<string, string>
                {
                    ["appgw.ingress.kubernetes.io/request-timeout"] = "1",
                }),
        });

        using var socket = await WebSockets.ConnectAsync(gateway.Http);
        Assert.Equal("hello from pod-a", await socket.ReceiveTextAsync());

        // /slow answers after 10 s: the 1 s request timeout turns it into a 504 from the gateway...
        using var client = new HttpClient();
        var slow = await client.GetAsync($"{gateway.Http}slow");
        Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);

        // ...while the WebSocket, idle for longer than that timeout in the meantime, still carries messages.
        Assert.Equal("still here", await socket.EchoAsync("still here"));
        Assert.Equal(WebSocketState.Open, socket.State);
    }

    [Fact]
    public async Task AnIdleWebSocketIsClosedAfterItsIdleTimeout()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" +
                Manifests.Ingress("web", "", "web", annotations: new Dictionary<string, string>
                {
                    ["passerelle.io/websocket-idle-timeout"] = "1s",
                }),
        });

        using var socket = await WebSockets.ConnectAsync(gateway.Http);
        Assert.Equal("hello from pod-a", await socket.ReceiveTextAsync());
        var ended = await Record.ExceptionAsync(() => socket.ReceiveTextAsync(TimeSpan.FromSeconds(15)));
        Assert.True(ended is WebSocketException, $"the idle connection should be closed by the gateway, got {ended}");

        // Politely: a Close frame with 1001 Going Away and the reason, not a dropped connection.
        Assert.Contains("EndpointUnavailable idle timeout", ended.Message);
    }
}
