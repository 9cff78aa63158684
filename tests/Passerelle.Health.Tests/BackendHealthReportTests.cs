using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

public sealed class BackendHealthReportTests
{
    [Fact]
    public async Task A_pool_kept_up_by_the_websocket_probe_would_be_a_502_on_application_gateway()
    {
        await using var first = await Backend.StartAsync(Handlers.WebSocketOnly());
        await using var second = await Backend.StartAsync(Handlers.WebSocketOnly());
        await using var monitor = new HealthMonitor(new HealthOptions(), new CapturingLogger<HealthMonitor>());
        var notReady = new BackendEndpoint("127.0.0.1", RawListeners.ClosedPort(), Ready: false);
        var terminating = new BackendEndpoint("127.0.0.1", RawListeners.ClosedPort(), Ready: false, Terminating: true);
        var pool = Models.Pool("chat", Models.Probe(path: "/ws"), first.Endpoint, second.Endpoint, notReady, terminating);
        var model = Models.Gateway(pool);
        monitor.Reconcile(model);
        await Eventually.TrueAsync(() => monitor.All.Count(h => h.State == HealthState.Healthy) == 2, "both ready endpoints healthy");

        var report = BackendHealthReport.Create(model, monitor);

        var chat = Assert.Single(report.Pools);
        Assert.Equal("Service default/chat", chat.Service);
        Assert.Equal("gateway default", chat.ProbeMode);
        Assert.Equal("serving", chat.Passerelle);
        Assert.Equal("would answer 502 Bad Gateway", chat.ApplicationGateway);
        Assert.Equal(
            [first.Endpoint.ToString(), second.Endpoint.ToString(), notReady.ToString(), terminating.ToString()],
            chat.Endpoints.Select(e => e.Endpoint));
        foreach (var endpoint in chat.Endpoints.Take(2))
        {
            Assert.Equal("healthy", endpoint.State);
            Assert.Equal("websocket", endpoint.ModeUsed);
            Assert.StartsWith("unhealthy: GET", endpoint.ApplicationGateway);
            Assert.Equal("unhealthy: GET http://probe.test/ws -> 400", endpoint.ApplicationGateway);
        }

        Assert.Equal(("not ready", "not in the pool (not ready)"), (chat.Endpoints[2].State, chat.Endpoints[2].ApplicationGateway));
        Assert.Equal(("terminating", "not in the pool (not ready)"), (chat.Endpoints[3].State, chat.Endpoints[3].ApplicationGateway));
    }

    [Fact]
    public async Task Pools_healthy_over_http_and_pools_down_are_told_apart()
    {
        await using var web = await Backend.StartAsync(Handlers.Status(200));
        await using var broken = await Backend.StartAsync(Handlers.Status(503));
        await using var monitor = new HealthMonitor(new HealthOptions(), new CapturingLogger<HealthMonitor>());
        var webPool = Models.Pool("web", Models.Probe(), web.Endpoint);
        var brokenPool = Models.Pool("broken", Models.Probe(mode: ProbeMode.Http), broken.Endpoint);
        var model = Models.Gateway(webPool, brokenPool);
        monitor.Reconcile(model);
        await Eventually.TrueAsync(
            () => monitor.Find(webPool, web.Endpoint)?.State == HealthState.Healthy
                && monitor.Find(brokenPool, broken.Endpoint)?.State == HealthState.Unhealthy,
            "web healthy and broken unhealthy");

        var report = BackendHealthReport.Create(model, monitor);

        var webReport = report.Pools.Single(p => p.Service == "Service default/web");
        Assert.Equal(("serving", "would serve"), (webReport.Passerelle, webReport.ApplicationGateway));
        Assert.Equal("healthy", Assert.Single(webReport.Endpoints).ApplicationGateway);
        var brokenReport = report.Pools.Single(p => p.Service == "Service default/broken");
        Assert.Equal("http", brokenReport.ProbeMode);
        Assert.Equal(("502 Bad Gateway: no healthy endpoint", "would answer 502 Bad Gateway"), (brokenReport.Passerelle, brokenReport.ApplicationGateway));
        var endpoint = Assert.Single(brokenReport.Endpoints);
        Assert.Equal("unhealthy", endpoint.State);
        Assert.Equal("unhealthy: GET http://probe.test/health -> 503", endpoint.ApplicationGateway);
        Assert.True(endpoint.ConsecutiveFailures >= 2);
    }
}
