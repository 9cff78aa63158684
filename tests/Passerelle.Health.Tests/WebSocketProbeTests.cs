using System.Collections.Concurrent;
using System.Net.WebSockets;
using Passerelle.Health.Probes;
using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

public sealed class WebSocketProbeTests
{
    [Fact]
    public async Task A_websocket_endpoint_is_healthy_and_gets_a_close_frame()
    {
        var received = new ConcurrentQueue<WebSocketMessageType>();
        await using var backend = await Backend.StartAsync(Handlers.WebSocketOnly(received));
        using var probe = new WebSocketProbe();

        var result = await probe.RunAsync(backend.Endpoint, Models.Probe(path: "/ws"), CancellationToken.None);

        Assert.True(result.Healthy);
        Assert.Equal(ProbeMode.WebSocket, result.Kind);
        Assert.Equal(101, result.StatusCode);
        Assert.Equal("WebSocket handshake http://probe.test/ws -> 101", result.Description);
        await Eventually.TrueAsync(() => !received.IsEmpty, "the server received a frame");
        Assert.Equal([WebSocketMessageType.Close], received.ToArray());
        Assert.Equal(new ReceivedRequest("GET", "/ws", Models.ProbeHost, WebSocket: true), Assert.Single(backend.Requests));
    }

    [Fact]
    public async Task A_refused_handshake_is_unhealthy_with_its_status()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(404));
        using var probe = new WebSocketProbe();

        var result = await probe.RunAsync(backend.Endpoint, Models.Probe(path: "/ws"), CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal(404, result.StatusCode);
        Assert.Equal("WebSocket handshake http://probe.test/ws -> 404", result.Description);
    }

    [Fact]
    public async Task A_closed_port_is_connection_refused()
    {
        using var probe = new WebSocketProbe();
        var endpoint = new BackendEndpoint("127.0.0.1", RawListeners.ClosedPort(), Ready: true);

        var result = await probe.RunAsync(endpoint, Models.Probe(path: "/ws"), CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Null(result.StatusCode);
        Assert.Equal("WebSocket handshake http://probe.test/ws -> connection refused", result.Description);
    }

    [Fact]
    public async Task A_backend_that_never_answers_the_handshake_times_out()
    {
        await using var listener = new SilentListener();
        using var probe = new WebSocketProbe();
        var endpoint = new BackendEndpoint("127.0.0.1", listener.Port, Ready: true);

        var result = await probe.RunAsync(endpoint, Models.Probe(path: "/ws", timeout: TimeSpan.FromSeconds(1)), CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal("WebSocket handshake http://probe.test/ws -> no answer within 1 s", result.Description);
        Assert.InRange(result.Latency, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));
    }
}
