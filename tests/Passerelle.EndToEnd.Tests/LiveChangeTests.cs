using System.Net;
using System.Net.WebSockets;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// Edits to the watched manifests while traffic flows: every change applies, and no open WebSocket or
/// in-flight request is dropped (AGIC and ingress-nginx users lose every WebSocket on such updates).
/// </summary>
public sealed class LiveChangeTests
{
    [Fact]
    public async Task ManifestEditsApplyWithoutDroppingAnyOpenWebSocket()
    {
        await using var podA = await TestBackend.StartAsync("pod-a");
        await using var podB = await TestBackend.StartAsync("pod-b");
        await using var other = await TestBackend.StartAsync("other");
        var service = Manifests.Service("web", [podA.EndPoint]);
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["service.yaml"] = service,
            ["ingress.yaml"] = Manifests.Ingress("web", "ws.contoso.com", "web"),
        });

        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < 20; i++)
        {
            var socket = await WebSockets.ConnectAsync(gateway.Http, host: "ws.contoso.com");
            Assert.Equal("hello from pod-a", await socket.ReceiveTextAsync());
            sockets.Add(socket);
        }

        using var client = new HttpClient();

        // A new Ingress and Service elsewhere.
        await gateway.WriteAsync("other.yaml", Manifests.Service("other", [other.EndPoint]) + "---\n" + Manifests.Ingress("other", "other.contoso.com", "other"));
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}whoami") { Headers = { Host = "other.contoso.com" } })
        {
            Assert.Equal("other", await (await client.SendAsync(request)).Content.ReadAsStringAsync());
        }

        // An annotation edit on the Ingress that carries the open sockets.
        await gateway.WriteAsync("ingress.yaml", Manifests.Ingress("web", "ws.contoso.com", "web",
            annotations: new Dictionary<string, string> { ["appgw.ingress.kubernetes.io/request-timeout"] = "45" }));

        // A second pod joins the Service: new connections use it, open ones stay where they are.
        await gateway.WriteAsync("service.yaml", Manifests.Service("web", [podA.EndPoint, podB.EndPoint]));
        await Eventually.TrueAsync(async () =>
        {
            using var probe = await WebSockets.ConnectAsync(gateway.Http, host: "ws.contoso.com");
            return await probe.ReceiveTextAsync() == "hello from pod-b";
        }, "a new connection to reach pod-b");

        // A rewrite with the same content changes nothing at all.
        var generation = gateway.Generation;
        await gateway.WriteAsync("service.yaml", Manifests.Service("web", [podA.EndPoint, podB.EndPoint]), expectNewGeneration: false);
        await gateway.WriteAsync("other.yaml", Manifests.Service("other", [other.EndPoint]) + "---\n" + Manifests.Ingress("other", "other.contoso.com", "other", path: "/x"));
        Assert.Equal(generation + 1, gateway.Generation);

        for (var i = 0; i < sockets.Count; i++)
        {
            Assert.Equal(WebSocketState.Open, sockets[i].State);
            Assert.Equal($"still open {i}", await sockets[i].EchoAsync($"still open {i}"));
        }

        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task AThousandOpenWebSocketsAllStillEchoAfterFiftyChanges()
    {
        await using var podA = await TestBackend.StartAsync("pod-a");
        await using var podB = await TestBackend.StartAsync("pod-b");
        await using var podC = await TestBackend.StartAsync("pod-c");
        await using var other = await TestBackend.StartAsync("other");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["service.yaml"] = Manifests.Service("web", [podA.EndPoint, podB.EndPoint]),
            ["ingress.yaml"] = Manifests.Ingress("web", "ws.contoso.com", "web"),
        });

        var sockets = new ClientWebSocket[1000];
        for (var batch = 0; batch < sockets.Length; batch += 50)
        {
            await Task.WhenAll(Enumerable.Range(batch, 50).Select(async i =>
            {
                sockets[i] = await WebSockets.ConnectAsync(gateway.Http, host: "ws.contoso.com");
                Assert.StartsWith("hello from pod-", await sockets[i].ReceiveTextAsync());
            }));
        }

        Assert.Equal(1000, podA.WebSocketsAccepted + podB.WebSocketsAccepted);

        // Fifty changes of every kind users make while traffic flows; none touches pod-a or pod-b.
        for (var change = 0; change < 50; change++)
        {
            switch (change % 5)
            {
                case 0:
                    await gateway.WriteAsync("other.yaml", Manifests.Service("other", [other.EndPoint]) + "---\n"
                        + Manifests.Ingress("other", $"other{change}.contoso.com", "other"));
                    break;
                case 1:
                    await gateway.WriteAsync("ingress.yaml", Manifests.Ingress("web", "ws.contoso.com", "web",
                        annotations: new Dictionary<string, string> { ["appgw.ingress.kubernetes.io/request-timeout"] = $"{30 + change}" }));
                    break;
                case 2:
                    await gateway.WriteAsync("service.yaml", Manifests.Service("web", [podA.EndPoint, podB.EndPoint, podC.EndPoint]));
                    break;
                case 3:
                    await gateway.WriteAsync("service.yaml", Manifests.Service("web", [podA.EndPoint, podB.EndPoint]));
                    break;
                default:
                    // The same bytes again: nothing to apply.
                    await gateway.WriteAsync("service.yaml", Manifests.Service("web", [podA.EndPoint, podB.EndPoint]), expectNewGeneration: false);
                    break;
            }
        }

        for (var batch = 0; batch < sockets.Length; batch += 50)
        {
            await Task.WhenAll(Enumerable.Range(batch, 50).Select(async i =>
            {
                Assert.Equal(WebSocketState.Open, sockets[i].State);
                Assert.Equal($"after fifty changes {i}", await sockets[i].EchoAsync($"after fifty changes {i}"));
            }));
        }

        foreach (var socket in sockets)
        {
            socket.Abort();
            socket.Dispose();
        }
    }

    [Fact]
    public async Task AnInFlightRequestFinishesAcrossAChange()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

        using var client = new HttpClient();
        var slow = client.GetAsync($"{gateway.Http}slow");
        await Eventually.TrueAsync(() => gateway.Logs.Count("Applied configuration") >= 1, "the first configuration");
        await gateway.WriteAsync("extra.yaml", Manifests.Ingress("extra", "extra.contoso.com", "web"));
        var response = await slow;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("late", await response.Content.ReadAsStringAsync());
    }
}
