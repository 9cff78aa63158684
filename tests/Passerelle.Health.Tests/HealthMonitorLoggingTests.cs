using Microsoft.Extensions.Logging;
using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

public sealed class HealthMonitorLoggingTests
{
    [Fact]
    public async Task An_endpoint_rescued_by_the_websocket_probe_is_logged_once()
    {
        var logger = new CapturingLogger<HealthMonitor>();
        await using var backend = await Backend.StartAsync(Handlers.WebSocketOnly());
        await using var monitor = new HealthMonitor(new HealthOptions { DefaultMode = ProbeMode.Auto }, logger);
        monitor.Reconcile(Models.Gateway(Models.Pool("chat", Models.Probe(path: "/ws"), backend.Endpoint)));
        var health = Assert.Single(monitor.All);

        await Eventually.TrueAsync(() => backend.Handshakes >= 4, "four handshakes");

        Assert.Equal(HealthState.Healthy, health.State);
        Assert.Equal(1, backend.PlainRequests);
        var rescue = Assert.Single(logger.WithId(2003));
        Assert.Equal("WebSocketProbeRescue", rescue.Id.Name);
        Assert.Equal(LogLevel.Warning, rescue.Level);
        Assert.Equal(backend.Endpoint.ToString(), rescue.Values["Endpoint"]);
        Assert.Equal("GET http://probe.test/ws -> 400", rescue.Values["HttpResult"]);
        Assert.Contains("Application Gateway would mark it unhealthy and answer 502 Bad Gateway", rescue.Message);
    }

    [Fact]
    public async Task An_endpoint_healthy_over_plain_http_logs_no_rescue()
    {
        var logger = new CapturingLogger<HealthMonitor>();
        await using var backend = await Backend.StartAsync(Handlers.Status(200));
        await using var monitor = new HealthMonitor(new HealthOptions(), logger);
        monitor.Reconcile(Models.Gateway(Models.Pool("web", Models.Probe(), backend.Endpoint)));

        await Eventually.TrueAsync(() => backend.Requests.Count >= 3, "three probes");

        Assert.Empty(logger.WithId(2003));
        Assert.Equal(0, backend.Handshakes);
    }
}
