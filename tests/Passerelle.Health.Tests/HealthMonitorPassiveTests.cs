using System.Diagnostics;
using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

/// <summary>A connection failure seen by the data plane: out at once, probed again soon, back on a good probe.</summary>
public sealed class HealthMonitorPassiveTests
{
    [Fact]
    public async Task A_passive_failure_triggers_a_probe_after_the_recheck_delay_and_a_good_probe_clears_it()
    {
        var recheck = TimeSpan.FromMilliseconds(300);
        await using var backend = await Backend.StartAsync(Handlers.Status(200));
        await using var monitor = new HealthMonitor(new HealthOptions { PassiveRecheckDelay = recheck }, new CapturingLogger<HealthMonitor>());
        // The interval is far longer than the test: any second probe is the one the passive failure asked for. Being
        // back within half of it proves the recheck did not wait for the interval, with room for a loaded machine.
        var interval = TimeSpan.FromMinutes(1);
        var pool = Models.Pool("web", Models.Probe(interval: interval), backend.Endpoint);
        monitor.Reconcile(Models.Gateway(pool));
        var health = Assert.Single(monitor.All);
        await Eventually.TrueAsync(() => health.State == HealthState.Healthy, "healthy");
        Assert.Single(backend.Requests);
        var started = Stopwatch.GetTimestamp();

        health.RecordPassiveFailure("connect -> connection reset");

        Assert.False(health.IsAvailable);
        Assert.Equal($"{backend.Endpoint} connect -> connection reset", health.Describe());
        await Eventually.TrueAsync(() => health.IsAvailable, "available again after the recheck", interval / 2);
        var elapsed = Stopwatch.GetElapsedTime(started);
        Assert.InRange(elapsed, recheck - TimeSpan.FromMilliseconds(20), interval / 2);
        Assert.Equal(2, backend.Requests.Count);
        Assert.Null(health.PassiveFailure);
        Assert.Equal(HealthState.Healthy, health.State);
    }
}
