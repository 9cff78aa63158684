using System.Diagnostics;
using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

/// <summary>The monitor's probers against real backends: first probe, failure and recovery, reconcile.</summary>
public sealed class HealthMonitorProbingTests
{
    private readonly CapturingLogger<HealthMonitor> _logger = new();

    [Fact]
    public async Task The_first_probe_goes_out_at_once_not_one_interval_later()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(200));
        await using var monitor = new HealthMonitor(new HealthOptions(), _logger);
        // The deadline is half the interval: being healthy within it proves the first probe did not wait one
        // interval (which would be at least 0.9 of it with the jitter), and half a minute is room enough for a
        // first request on a loaded machine.
        var interval = TimeSpan.FromMinutes(1);
        var deadline = interval / 2;
        var pool = Models.Pool("web", Models.Probe(interval: interval), backend.Endpoint);
        var started = Stopwatch.GetTimestamp();

        monitor.Reconcile(Models.Gateway(pool));

        var health = Assert.Single(monitor.All);
        Assert.Same(health, monitor.Find(pool, backend.Endpoint));
        await Eventually.TrueAsync(() => health.State == HealthState.Healthy, "healthy after the first probe", deadline);
        Assert.True(Stopwatch.GetElapsedTime(started) < deadline);
        Assert.Equal(1, backend.PlainRequests);
        Assert.True(health.IsAvailable);
        // The prober logs the transition just after recording it: the state can be read before the log line is written.
        await Eventually.TrueAsync(() => _logger.WithId(2001).Count > 0, "the healthy transition logged");
        var healthy = Assert.Single(_logger.WithId(2001));
        Assert.Equal("GET http://probe.test/health -> 200", healthy.Values["Result"]);
    }

    [Fact]
    public async Task A_stopped_backend_becomes_unhealthy_after_the_threshold_and_recovers_when_restarted()
    {
        var backend = await Backend.StartAsync(Handlers.Status(200));
        try
        {
            await using var monitor = new HealthMonitor(new HealthOptions(), _logger);
            var endpoint = backend.Endpoint;
            var pool = Models.Pool("web", Models.Probe(threshold: 2), endpoint);
            monitor.Reconcile(Models.Gateway(pool));
            var health = Assert.Single(monitor.All);
            await Eventually.TrueAsync(() => health.State == HealthState.Healthy, "healthy");

            await backend.StopAsync();

            await Eventually.TrueAsync(() => health.State == HealthState.Unhealthy, "unhealthy once stopped");
            Assert.False(health.IsAvailable);
            // The prober logs the transition just after recording it: the state can be read before the log line is written.
            await Eventually.TrueAsync(() => _logger.WithId(2002).Count > 0, "the unhealthy transition logged");
            var unhealthy = Assert.Single(_logger.WithId(2002));
            Assert.Equal(2, unhealthy.Values["Failures"]);
            Assert.Equal("GET http://probe.test/health -> connection refused", unhealthy.Values["Result"]);
            Assert.StartsWith($"{endpoint} GET http://probe.test/health -> connection refused (", health.Describe());

            backend = await Backend.StartAsync(Handlers.Status(200), endpoint.Port);

            await Eventually.TrueAsync(() => health.State == HealthState.Healthy, "healthy once restarted");
            Assert.True(health.IsAvailable);
            Assert.Equal(0, health.ConsecutiveFailures);
            await Eventually.TrueAsync(() => _logger.WithId(2001).Count >= 2, "the second healthy transition logged");
            Assert.Equal(2, _logger.WithId(2001).Count);
        }
        finally
        {
            await backend.DisposeAsync();
        }
    }

    [Fact]
    public async Task Reconcile_stops_the_prober_of_an_endpoint_that_is_gone()
    {
        await using var staying = await Backend.StartAsync(Handlers.Status(200));
        await using var leaving = await Backend.StartAsync(Handlers.Status(200));
        await using var monitor = new HealthMonitor(new HealthOptions(), _logger);
        var probe = Models.Probe();
        monitor.Reconcile(Models.Gateway(Models.Pool("web", probe, staying.Endpoint, leaving.Endpoint)));
        await Eventually.TrueAsync(() => monitor.All.Count(h => h.State == HealthState.Healthy) == 2, "both healthy");
        var stayingHealth = monitor.All.Single(h => h.Endpoint == staying.Endpoint);

        var smaller = Models.Pool("web", probe, staying.Endpoint);
        monitor.Reconcile(Models.Gateway(smaller));

        Assert.Same(stayingHealth, Assert.Single(monitor.All));
        Assert.Null(monitor.Find(smaller, leaving.Endpoint));
        var probesOfLeaving = leaving.Requests.Count;
        var probesOfStaying = staying.Requests.Count;
        await Eventually.TrueAsync(() => staying.Requests.Count >= probesOfStaying + 3, "three more probes of the endpoint that stays");
        // One probe may have been on its way when the prober stopped; a running prober would have sent about three.
        Assert.InRange(leaving.Requests.Count, probesOfLeaving, probesOfLeaving + 1);
        Assert.Equal(HealthState.Healthy, stayingHealth.State);
    }

    [Fact]
    public async Task A_not_ready_endpoint_is_never_probed()
    {
        await using var ready = await Backend.StartAsync(Handlers.Status(200));
        await using var notReady = await Backend.StartAsync(Handlers.Status(200));
        await using var monitor = new HealthMonitor(new HealthOptions(), _logger);
        var notReadyEndpoint = notReady.Endpoint with { Ready = false };
        var pool = Models.Pool("web", Models.Probe(), ready.Endpoint, notReadyEndpoint);

        monitor.Reconcile(Models.Gateway(pool));

        await Eventually.TrueAsync(() => ready.Requests.Count >= 3, "three probes of the ready endpoint");
        Assert.Empty(notReady.Requests);
        Assert.Equal(ready.Endpoint, Assert.Single(monitor.All).Endpoint);
        Assert.Null(monitor.Find(pool, notReadyEndpoint));
    }

    [Fact]
    public async Task Dispose_ends_every_prober()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(200));
        var monitor = new HealthMonitor(new HealthOptions(), _logger);
        monitor.Reconcile(Models.Gateway(Models.Pool("web", Models.Probe(), backend.Endpoint)));
        await Eventually.TrueAsync(() => backend.Requests.Count >= 2, "probed twice");

        await monitor.DisposeAsync();
        var probes = backend.Requests.Count;

        // Another monitor on the same backend gives the clock: after five of its probes the disposed one sent none.
        // A probe already written to the socket when the loop was cancelled may reach the backend's middleware only
        // after the count above was taken, so one more is allowed; a prober still running would have sent about five.
        await using var other = new HealthMonitor(new HealthOptions(), _logger);
        var otherPool = Models.Pool("other", Models.Probe(path: "/other"), backend.Endpoint);
        other.Reconcile(Models.Gateway(otherPool));
        await Eventually.TrueAsync(() => backend.Requests.Count(r => r.Path == "/other") >= 5, "five probes by the other monitor");
        Assert.InRange(backend.Requests.Count(r => r.Path == "/health"), probes, probes + 1);
    }
}
