using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// The founding document's trap on real servers: a WebSocket server answers the plain GET probe with 404 or 426.
/// Strict Application Gateway behaviour (mode appgw) reproduces the 502; the default mode recognises a working
/// WebSocket server, serves it, and says how to fix the probe.
/// </summary>
public sealed class HealthProbeTests
{
    /// <summary>Probe every second and decide after one result, so that tests see state changes quickly.</summary>
    private static Dictionary<string, string> FastProbes(string? mode = null)
    {
        var annotations = new Dictionary<string, string>
        {
            ["appgw.ingress.kubernetes.io/health-probe-interval"] = "1",
            ["appgw.ingress.kubernetes.io/health-probe-timeout"] = "1",
            ["appgw.ingress.kubernetes.io/health-probe-unhealthy-threshold"] = "1",
        };
        if (mode is not null)
        {
            annotations["passerelle.io/health-probe-mode"] = mode;
        }

        return annotations;
    }

    [Fact]
    public async Task StrictApplicationGatewayModeReproducesTheTrapWith502NamingEachEndpoint()
    {
        var (a, b) = (Loopback.NextAddress(), Loopback.NextAddress());
        await using var podA = await Peers.WebsocketdAsync(a);
        await using var podB = await Peers.WebsocketdAsync(b);
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("ws", [new IPEndPoint(a, 8888), new IPEndPoint(b, 8888)]) + "---\n"
                + Manifests.Ingress("ws", "ws.contoso.com", "ws", annotations: FastProbes("appgw")),
        });
        using var client = new HttpClient();

        string body = "";
        await Eventually.TrueAsync(async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}ws") { Headers = { Host = "ws.contoso.com" } };
            var response = await client.SendAsync(request);
            body = await response.Content.ReadAsStringAsync();
            return response.StatusCode == HttpStatusCode.BadGateway;
        }, "the gateway to answer 502 once both pods failed their probe");

        Assert.Contains("Service default/ws: no healthy endpoint", body);
        Assert.Contains($"{a}:8888 GET http://ws.contoso.com/ -> 404 (1 consecutive failure)", body);
        Assert.Contains($"{b}:8888 GET http://ws.contoso.com/ -> 404 (1 consecutive failure)", body);

        // A WebSocket client fails too, though both servers work: exactly what AGIC users see.
        var handshake = await Record.ExceptionAsync(() => WebSockets.ConnectAsync(gateway.Http, host: "ws.contoso.com"));
        Assert.IsType<WebSocketException>(handshake);
    }

    [Fact]
    public async Task TheDefaultModeServesWebSocketOnlyServersAndExplainsTheApplicationGatewayVerdict()
    {
        var (a, b) = (Loopback.NextAddress(), Loopback.NextAddress());
        await using var websocketd = await Peers.WebsocketdAsync(a);
        await using var python = await Peers.PythonWebSocketsAsync(b);
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("ws", [new IPEndPoint(a, 8888), new IPEndPoint(b, 8888)]) + "---\n"
                + Manifests.Ingress("ws", "ws.contoso.com", "ws", annotations: FastProbes()),
        });

        JsonElement pool = default;
        await Eventually.TrueAsync(async () =>
        {
            pool = (await BackendHealthAsync(gateway)).GetProperty("pools")[0];
            return pool.GetProperty("endpoints").EnumerateArray().All(e => e.GetProperty("state").GetString() == "healthy");
        }, "both WebSocket servers to be found healthy");

        Assert.Equal("serving", pool.GetProperty("passerelle").GetString());
        Assert.Equal("would answer 502 Bad Gateway", pool.GetProperty("applicationGateway").GetString());
        var endpoints = pool.GetProperty("endpoints").EnumerateArray().ToDictionary(e => e.GetProperty("endpoint").GetString()!);
        Assert.Equal("websocket", endpoints[$"{a}:8888"].GetProperty("modeUsed").GetString());
        Assert.Equal("unhealthy: GET http://ws.contoso.com/ -> 404", endpoints[$"{a}:8888"].GetProperty("applicationGateway").GetString());
        Assert.Equal("unhealthy: GET http://ws.contoso.com/ -> 426", endpoints[$"{b}:8888"].GetProperty("applicationGateway").GetString());

        // The same for a person, as a page.
        using var admin = new HttpClient();
        var page = await admin.GetStringAsync($"{gateway.Admin}backend-health.html");
        Assert.Contains("<h2>Service default/ws:80</h2>", page);
        Assert.Contains($"<td>{a}:8888</td><td class=\"healthy\">healthy</td><td>websocket</td>", page);
        Assert.Contains("Application Gateway: <b>would answer 502 Bad Gateway</b>", page);

        // Traffic flows to both third-party servers.
        for (var i = 0; i < 4; i++)
        {
            using var socket = await WebSockets.ConnectAsync(gateway.Http, host: "ws.contoso.com");
            Assert.Equal($"hello {i}", await socket.EchoAsync($"hello {i}"));
        }

        // The warning that tells the user how to fix it is logged once per endpoint, not once per probe.
        await Eventually.TrueAsync(() => gateway.Logs.Entries.Count(e => e.Event.Name == "WebSocketProbeRescue") == 2, "one warning per endpoint");
        var warning = gateway.Logs.Entries.First(e => e.Event.Name == "WebSocketProbeRescue");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Application Gateway would mark it unhealthy and answer 502 Bad Gateway", warning.Message);
        Assert.Contains("readinessProbe", warning.Message);
    }

    [Fact]
    public async Task AReadinessProbeOnHealthMakesThePlainHttpProbeSucceed()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        var deployment = Manifests.DeploymentWithReadiness("web", "/health", "periodSeconds: 1", "failureThreshold: 1");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = deployment + "---\n" + Manifests.Service("web", [pod.EndPoint], selectApp: "web")
                + "---\n" + Manifests.Ingress("web", "web.contoso.com", "web"),
        });

        JsonElement endpoint = default;
        await Eventually.TrueAsync(async () =>
        {
            endpoint = (await BackendHealthAsync(gateway)).GetProperty("pools")[0].GetProperty("endpoints")[0];
            return endpoint.GetProperty("state").GetString() == "healthy";
        }, "the pod to be healthy");
        Assert.Equal("http", endpoint.GetProperty("modeUsed").GetString());
        Assert.Equal("GET http://web.contoso.com/health -> 200", endpoint.GetProperty("lastResult").GetString());
        Assert.Equal("healthy", endpoint.GetProperty("applicationGateway").GetString());
    }

    [Fact]
    public async Task AHangingEndpointIsTakenOutAfterItsTimeoutAndTheOtherServes()
    {
        await using var live = await TestBackend.StartAsync("live");
        var hangingAddress = Loopback.NextAddress();
        var hanging = Peers.Hanging(hangingAddress);
        try
        {
            await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
            {
                ["app.yaml"] = Manifests.Service("web", [new IPEndPoint(hangingAddress, 8888), live.EndPoint]) + "---\n"
                    + Manifests.Ingress("web", "", "web", annotations: new Dictionary<string, string>(FastProbes("http"))
                    {
                        ["appgw.ingress.kubernetes.io/health-probe-path"] = "/health",
                    }),
            });

            await Eventually.TrueAsync(async () =>
            {
                var endpoints = (await BackendHealthAsync(gateway)).GetProperty("pools")[0].GetProperty("endpoints").EnumerateArray();
                return endpoints.Any(e => e.GetProperty("endpoint").GetString() == $"{hangingAddress}:8888"
                    && e.GetProperty("state").GetString() == "unhealthy"
                    && e.GetProperty("lastResult").GetString()!.EndsWith("-> no answer within 1 s", StringComparison.Ordinal))
                    && endpoints.Any(e => e.GetProperty("endpoint").GetString() == live.EndPoint.ToString()
                    && e.GetProperty("state").GetString() == "healthy");
            }, "the hanging endpoint to be unhealthy after its probe timed out, and the live one healthy");

            using var client = new HttpClient();
            for (var i = 0; i < 10; i++)
            {
                var body = await (await client.GetAsync($"{gateway.Http}whoami")).Content.ReadAsStringAsync();
                Assert.True(body == "live", body);
            }
        }
        finally
        {
            hanging.Stop();
        }
    }

    [Fact]
    public async Task AnEndpointThatComesBackIsServedAgainAfterAGoodProbe()
    {
        var address = Loopback.NextAddress();
        var pod = await TestBackend.StartAsync("first life", address);
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web", annotations: FastProbes("tcp")),
        });
        using var client = new HttpClient();
        Assert.Equal("first life", await client.GetStringAsync($"{gateway.Http}whoami"));

        await pod.DisposeAsync();
        await Eventually.TrueAsync(async () => (await client.GetAsync($"{gateway.Http}whoami")).StatusCode == HttpStatusCode.BadGateway,
            "502 while the only pod is down");

        await using var reborn = await TestBackend.StartAsync("second life", address);
        await Eventually.TrueAsync(async () =>
        {
            var response = await client.GetAsync($"{gateway.Http}whoami");
            return response.IsSuccessStatusCode && await response.Content.ReadAsStringAsync() == "second life";
        }, "traffic to return once a probe succeeds");
    }

    [Fact]
    public async Task KillingOneOfTwoReplicasUnderWebSocketChurnCostsNoFailedHandshake()
    {
        await using var survivor = await TestBackend.StartAsync("survivor");
        var victim = await TestBackend.StartAsync("victim");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [survivor.EndPoint, victim.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

        var failures = new List<string>();
        var handshakes = 0;
        using var stop = new CancellationTokenSource();
        async Task ChurnAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var socket = await WebSockets.ConnectAsync(gateway.Http);
                    var greeting = await socket.ReceiveTextAsync();
                    Assert.StartsWith("hello from ", greeting);
                    Interlocked.Increment(ref handshakes);
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
                {
                    if (e is WebSocketException { Message: var m } && m.StartsWith("closed by the peer", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    lock (failures)
                    {
                        failures.Add(e.Message);
                    }
                }
            }
        }

        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(ChurnAsync)).ToArray();
        await Eventually.TrueAsync(() => Volatile.Read(ref handshakes) >= 100 && victim.WebSocketsAccepted > 0, "churn to reach both replicas");
        await victim.DisposeAsync();
        var afterKill = Volatile.Read(ref handshakes);
        await Eventually.TrueAsync(() => Volatile.Read(ref handshakes) >= afterKill + 200, "200 more handshakes after the kill");
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.Empty(failures);
    }

    private static async Task<JsonElement> BackendHealthAsync(GatewayUnderTest gateway)
    {
        using var client = new HttpClient();
        return JsonDocument.Parse(await client.GetStringAsync($"{gateway.Admin}backend-health")).RootElement;
    }
}
