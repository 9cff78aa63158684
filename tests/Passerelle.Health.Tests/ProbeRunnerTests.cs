using Passerelle.Health.Probes;
using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

/// <summary>The probe modes, against a WebSocket-only server that answers a plain GET of /ws with 400.</summary>
public sealed class ProbeRunnerTests
{
    private static readonly ProbeSpec WsProbe = Models.Probe(path: "/ws");

    [Fact]
    public async Task Auto_lets_the_handshake_decide_after_a_400_and_then_sends_only_the_handshake()
    {
        await using var backend = await Backend.StartAsync(Handlers.WebSocketOnly());
        using var runner = new ProbeRunner();
        var health = Models.Health(backend.Endpoint, WsProbe, ProbeMode.Auto);

        var (first, firstHttp) = await runner.RunAsync(health, CancellationToken.None);

        Assert.True(first.Healthy);
        Assert.Equal(ProbeMode.WebSocket, first.Kind);
        Assert.Equal("GET http://probe.test/ws -> 400, WebSocket handshake http://probe.test/ws -> 101", first.Description);
        Assert.NotNull(firstHttp);
        Assert.False(firstHttp.Healthy);
        Assert.Equal(400, firstHttp.StatusCode);
        Assert.True(health.PrefersWebSocket);
        Assert.Equal((1, 1), (backend.PlainRequests, backend.Handshakes));

        var (second, secondHttp) = await runner.RunAsync(health, CancellationToken.None);

        Assert.True(second.Healthy);
        Assert.Equal("WebSocket handshake http://probe.test/ws -> 101", second.Description);
        Assert.Null(secondHttp);
        Assert.Equal((1, 2), (backend.PlainRequests, backend.Handshakes));
    }

    [Fact]
    public async Task Auto_goes_back_to_the_http_probe_when_the_handshake_stops_working()
    {
        await using var backend = await Backend.StartAsync(Handlers.WebSocketOnly());
        using var runner = new ProbeRunner();
        var health = Models.Health(backend.Endpoint, WsProbe, ProbeMode.Auto);
        await runner.RunAsync(health, CancellationToken.None);
        Assert.True(health.PrefersWebSocket);
        await backend.StopAsync();

        var (result, http) = await runner.RunAsync(health, CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.False(health.PrefersWebSocket);
        Assert.Equal(ProbeMode.Http, result.Kind);
        Assert.Equal("GET http://probe.test/ws -> connection refused", result.Description);
        Assert.Same(result, http);
    }

    [Fact]
    public async Task Auto_does_not_try_a_handshake_after_a_500()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(500));
        using var runner = new ProbeRunner();
        var health = Models.Health(backend.Endpoint, WsProbe, ProbeMode.Auto);

        var (result, http) = await runner.RunAsync(health, CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal("GET http://probe.test/ws -> 500", result.Description);
        Assert.Same(result, http);
        Assert.False(health.PrefersWebSocket);
        Assert.Equal((1, 0), (backend.PlainRequests, backend.Handshakes));
    }

    [Fact]
    public async Task Auto_reports_both_answers_when_the_handshake_is_refused_too()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(404));
        using var runner = new ProbeRunner();
        var health = Models.Health(backend.Endpoint, WsProbe, ProbeMode.Auto);

        var (result, http) = await runner.RunAsync(health, CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal(ProbeMode.Http, result.Kind);
        Assert.Equal("GET http://probe.test/ws -> 404, WebSocket handshake http://probe.test/ws -> 404", result.Description);
        Assert.NotNull(http);
        Assert.Equal("GET http://probe.test/ws -> 404", http.Description);
        Assert.False(health.PrefersWebSocket);
        Assert.Equal((1, 1), (backend.PlainRequests, backend.Handshakes));
    }

    [Theory]
    [InlineData(ProbeMode.Http)]
    [InlineData(ProbeMode.AppGateway)]
    public async Task Http_and_appgw_send_only_the_plain_get(ProbeMode mode)
    {
        await using var backend = await Backend.StartAsync(Handlers.WebSocketOnly());
        using var runner = new ProbeRunner();
        var health = Models.Health(backend.Endpoint, WsProbe, mode);

        var (result, http) = await runner.RunAsync(health, CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal(400, result.StatusCode);
        Assert.Equal("GET http://probe.test/ws -> 400", result.Description);
        Assert.Same(result, http);
        Assert.Equal((1, 0), (backend.PlainRequests, backend.Handshakes));
    }

    [Fact]
    public async Task Websocket_sends_only_the_handshake()
    {
        await using var backend = await Backend.StartAsync(Handlers.WebSocketOnly());
        using var runner = new ProbeRunner();
        var health = Models.Health(backend.Endpoint, WsProbe, ProbeMode.WebSocket);

        var (result, http) = await runner.RunAsync(health, CancellationToken.None);

        Assert.True(result.Healthy);
        Assert.Equal(ProbeMode.WebSocket, result.Kind);
        Assert.Null(http);
        Assert.Equal((0, 1), (backend.PlainRequests, backend.Handshakes));
    }

    [Fact]
    public async Task Tcp_only_connects()
    {
        await using var backend = await Backend.StartAsync(Handlers.WebSocketOnly());
        using var runner = new ProbeRunner();
        var health = Models.Health(backend.Endpoint, WsProbe, ProbeMode.Tcp);

        var (result, http) = await runner.RunAsync(health, CancellationToken.None);

        Assert.True(result.Healthy);
        Assert.Equal(ProbeMode.Tcp, result.Kind);
        Assert.Equal($"TCP connect to port {backend.Port} -> accepted", result.Description);
        Assert.Null(http);
        Assert.Empty(backend.Requests);
    }

    [Fact]
    public async Task Tcp_to_a_closed_port_is_refused()
    {
        using var runner = new ProbeRunner();
        var port = RawListeners.ClosedPort();
        var health = Models.Health(new Model.BackendEndpoint("127.0.0.1", port, Ready: true), WsProbe, ProbeMode.Tcp);

        var (result, _) = await runner.RunAsync(health, CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal($"TCP connect to port {port} -> connection refused", result.Description);
    }
}
