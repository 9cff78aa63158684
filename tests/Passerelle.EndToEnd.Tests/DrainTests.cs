using System.Net;
using System.Net.WebSockets;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// Endpoints leaving service while clients hold WebSockets: no new connections for them, their WebSockets continue
/// for the drain timeout, then end with a proper Close 1001 from the gateway, and the clients reconnect elsewhere.
/// A rolling update of both replicas under load costs no failed handshake or request.
/// </summary>
public sealed class DrainTests
{
    private static Dictionary<string, string> Draining(int seconds) => new()
    {
        ["appgw.ingress.kubernetes.io/connection-draining"] = "true",
        ["appgw.ingress.kubernetes.io/connection-draining-timeout"] = $"{seconds}",
    };

    [Fact]
    public async Task ARemovedReplicasClientsGetClose1001AfterTheDrainTimeoutAndReconnectToTheOther()
    {
        await using var staying = await TestBackend.StartAsync("staying");
        await using var leaving = await TestBackend.StartAsync("leaving");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["service.yaml"] = Manifests.Service("web", [staying.EndPoint, leaving.EndPoint]),
            ["ingress.yaml"] = Manifests.Ingress("web", "", "web", annotations: Draining(2)),
        }, o => o.CloseSpread = TimeSpan.FromSeconds(1));

        var onLeaving = new List<ClientWebSocket>();
        while (onLeaving.Count < 5)
        {
            var socket = await WebSockets.ConnectAsync(gateway.Http);
            if (await socket.ReceiveTextAsync() == "hello from leaving")
            {
                onLeaving.Add(socket);
            }
        }

        var removedAt = DateTime.UtcNow;
        await gateway.WriteAsync("service.yaml", Manifests.Service("web", [staying.EndPoint], notReady: [leaving.EndPoint]));

        // No new connection reaches the leaving replica, while its open WebSockets keep working during the drain.
        for (var i = 0; i < 6; i++)
        {
            using var fresh = await WebSockets.ConnectAsync(gateway.Http);
            Assert.Equal("hello from staying", await fresh.ReceiveTextAsync());
        }

        Assert.Equal("still served while draining", await onLeaving[0].EchoAsync("still served while draining"));

        foreach (var socket in onLeaving)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var result = await socket.ReceiveAsync(new byte[1024], deadline.Token);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
        }

        Assert.True(DateTime.UtcNow - removedAt >= TimeSpan.FromSeconds(2), "the drain timeout must pass before the gateway closes");

        using var reconnected = await WebSockets.ConnectAsync(gateway.Http);
        Assert.Equal("hello from staying", await reconnected.ReceiveTextAsync());
    }

    [Fact]
    public async Task ARollingUpdateUnderLoadCostsNoFailedHandshakeOrRequestAndEveryCloseIsPolite()
    {
        var oldA = await TestBackend.StartAsync("old-a");
        var oldB = await TestBackend.StartAsync("old-b");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["service.yaml"] = Manifests.Service("web", [oldA.EndPoint, oldB.EndPoint]),
            ["ingress.yaml"] = Manifests.Ingress("web", "", "web", annotations: Draining(1)),
        }, o => o.CloseSpread = TimeSpan.FromSeconds(1));

        using var stop = new CancellationTokenSource();
        var load = new Load(gateway);
        var clients = Enumerable.Range(0, 10).Select(_ => Task.Run(() => load.WebSocketClientAsync(stop.Token))).ToList();
        clients.Add(Task.Run(() => load.HttpClientAsync(stop.Token)));
        await Eventually.TrueAsync(() => load.Handshakes >= 10 && load.Requests >= 50, "the load to start");

        // Kubernetes' rolling update, one replica at a time: the new pod becomes ready, the old one terminates
        // (not ready, terminating) and is stopped once its drain is over.
        var newA = await TestBackend.StartAsync("new-a");
        await gateway.WriteAsync("service.yaml", Manifests.Service("web", [oldA.EndPoint, oldB.EndPoint, newA.EndPoint]));
        await gateway.WriteAsync("service.yaml", Manifests.Service("web", [oldB.EndPoint, newA.EndPoint], notReady: [oldA.EndPoint]));
        await Eventually.TrueAsync(() => load.PoliteCloses(oldA.Name) > 0 && load.OpenOn(oldA.Name) == 0, "old-a's clients to be closed politely and move");
        await oldA.DisposeAsync();

        var newB = await TestBackend.StartAsync("new-b");
        await gateway.WriteAsync("service.yaml", Manifests.Service("web", [oldB.EndPoint, newA.EndPoint, newB.EndPoint]));
        await gateway.WriteAsync("service.yaml", Manifests.Service("web", [newA.EndPoint, newB.EndPoint], notReady: [oldB.EndPoint]));
        await Eventually.TrueAsync(() => load.PoliteCloses(oldB.Name) > 0 && load.OpenOn(oldB.Name) == 0, "old-b's clients to be closed politely and move");
        await oldB.DisposeAsync();

        var before = (load.Echoes, load.Requests);
        await Eventually.TrueAsync(() => load.Echoes > before.Echoes + 100 && load.Requests > before.Requests + 50, "load to go on after the update");
        await stop.CancelAsync();
        await Task.WhenAll(clients);
        Assert.True(newA.WebSocketsAccepted > 0 && newB.WebSocketsAccepted > 0, "both new replicas take the clients that moved");
        await newA.DisposeAsync();
        await newB.DisposeAsync();

        Assert.Empty(load.Failures);
    }

    /// <summary>WebSocket clients that reconnect whenever they are closed, and an HTTP client, counting everything.</summary>
    private sealed class Load(GatewayUnderTest gateway)
    {
        private readonly Dictionary<string, int> _open = [];
        private readonly Dictionary<string, int> _politeCloses = [];
        private int _handshakes;
        private int _requests;
        private int _echoes;

        public List<string> Failures { get; } = [];

        public int Handshakes => Volatile.Read(ref _handshakes);

        public int Requests => Volatile.Read(ref _requests);

        public int Echoes => Volatile.Read(ref _echoes);

        public int OpenOn(string pod)
        {
            lock (_open)
            {
                return _open.GetValueOrDefault(pod);
            }
        }

        public int PoliteCloses(string pod)
        {
            lock (_open)
            {
                return _politeCloses.GetValueOrDefault(pod);
            }
        }

        public async Task WebSocketClientAsync(CancellationToken stop)
        {
            while (!stop.IsCancellationRequested)
            {
                ClientWebSocket socket;
                string pod;
                try
                {
                    socket = await WebSockets.ConnectAsync(gateway.Http);
                    pod = (await socket.ReceiveTextAsync())["hello from ".Length..];
                    Interlocked.Increment(ref _handshakes);
                }
                catch (Exception e)
                {
                    Fail($"handshake: {e.Message}");
                    continue;
                }

                Change(_open, pod, +1);
                try
                {
                    var buffer = new byte[1024];
                    var n = 0;
                    while (!stop.IsCancellationRequested)
                    {
                        await socket.SendAsync("ping"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
                        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            if (result.CloseStatus == WebSocketCloseStatus.EndpointUnavailable)
                            {
                                Change(_politeCloses, pod, +1);
                            }
                            else
                            {
                                Fail($"closed by {pod} with {result.CloseStatus}");
                            }

                            break;
                        }

                        Interlocked.Increment(ref _echoes);
                        if (++n % 10 == 0)
                        {
                            await Task.Yield();
                        }
                    }
                }
                catch (Exception e) when (e is WebSocketException or IOException)
                {
                    Fail($"connection to {pod} dropped: {e.Message}");
                }
                finally
                {
                    Change(_open, pod, -1);
                    socket.Abort();
                    socket.Dispose();
                }
            }
        }

        public async Task HttpClientAsync(CancellationToken stop)
        {
            using var client = new HttpClient();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var response = await client.GetAsync($"{gateway.Http}whoami", CancellationToken.None);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Fail($"GET /whoami: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }

                    Interlocked.Increment(ref _requests);
                }
                catch (HttpRequestException e)
                {
                    Fail($"GET /whoami: {e.Message}");
                }
            }
        }

        private void Change(Dictionary<string, int> counts, string pod, int delta)
        {
            lock (_open)
            {
                counts[pod] = counts.GetValueOrDefault(pod) + delta;
            }
        }

        private void Fail(string failure)
        {
            lock (Failures)
            {
                Failures.Add(failure);
            }
        }
    }
}
