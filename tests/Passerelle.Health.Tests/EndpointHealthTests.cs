using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model;

namespace Passerelle.Health.Tests;

public sealed class EndpointHealthTests
{
    private static readonly BackendEndpoint Pod = new("127.0.0.2", 8888, Ready: true);

    private static EndpointHealth NewHealth(int threshold = 3) =>
        Models.Health(Pod, Models.Probe(path: "/ws", threshold: threshold) with { Host = "ws.contoso.com" });

    private static ProbeResult Bad() => Models.Result(false, "GET http://ws.contoso.com/ws -> 400", 400);

    private static ProbeResult Good() => Models.Result(true, "GET http://ws.contoso.com/ws -> 200", 200);

    [Fact]
    public void Unknown_stays_available_until_the_threshold_of_consecutive_failures()
    {
        var health = NewHealth(threshold: 3);
        Assert.Equal(HealthState.Unknown, health.State);
        Assert.True(health.IsAvailable);

        Assert.Null(health.Record(Bad(), null));
        Assert.Null(health.Record(Bad(), null));
        Assert.Equal(HealthState.Unknown, health.State);
        Assert.Equal(2, health.ConsecutiveFailures);
        Assert.True(health.IsAvailable);

        var third = Bad();
        Assert.Equal(HealthState.Unhealthy, health.Record(third, null));
        Assert.Equal(HealthState.Unhealthy, health.State);
        Assert.Equal(third.At, health.Since);
        Assert.Equal(3, health.ConsecutiveFailures);
        Assert.False(health.IsAvailable);

        Assert.Null(health.Record(Bad(), null));
        Assert.False(health.IsAvailable);
    }

    [Fact]
    public void A_success_resets_the_failures_and_makes_it_available()
    {
        var health = NewHealth(threshold: 2);
        health.Record(Bad(), null);
        health.Record(Bad(), null);
        Assert.False(health.IsAvailable);

        Assert.Equal(HealthState.Healthy, health.Record(Good(), null));
        Assert.Equal(0, health.ConsecutiveFailures);
        Assert.True(health.IsAvailable);

        // One failure below the threshold neither changes the state nor takes it out.
        Assert.Null(health.Record(Bad(), null));
        Assert.Equal(HealthState.Healthy, health.State);
        Assert.True(health.IsAvailable);
    }

    [Fact]
    public void The_http_result_is_kept_when_a_later_probe_sends_none()
    {
        var health = NewHealth();
        var http = Bad();
        health.Record(Good(), http);
        health.Record(Good(), null);
        Assert.Same(http, health.LastHttpResult);
    }

    [Fact]
    public async Task A_passive_failure_takes_it_out_at_once_and_asks_for_a_probe()
    {
        var health = NewHealth(threshold: 3);
        health.Record(Good(), null);
        var wake = health.WakeRequested;
        Assert.False(wake.IsCompleted);

        health.RecordPassiveFailure("connect -> connection refused");

        Assert.False(health.IsAvailable);
        Assert.Equal("connect -> connection refused", health.PassiveFailure);
        Assert.Equal(HealthState.Healthy, health.State);
        await wake.WaitAsync(TimeSpan.FromSeconds(5));

        health.ResetWake();
        Assert.False(health.WakeRequested.IsCompleted);

        // A failed probe, even below the threshold, does not bring it back; only a good one does.
        health.Record(Bad(), null);
        Assert.False(health.IsAvailable);
        Assert.NotNull(health.PassiveFailure);

        health.Record(Good(), null);
        Assert.True(health.IsAvailable);
        Assert.Null(health.PassiveFailure);
    }

    [Fact]
    public void Describe_says_what_was_seen()
    {
        var health = NewHealth(threshold: 3);
        Assert.Equal("127.0.0.2:8888 not probed yet", health.Describe());

        health.Record(Bad(), null);
        Assert.Equal("127.0.0.2:8888 GET http://ws.contoso.com/ws -> 400 (1 consecutive failure)", health.Describe());

        health.Record(Bad(), null);
        health.Record(Bad(), null);
        Assert.Equal("127.0.0.2:8888 GET http://ws.contoso.com/ws -> 400 (3 consecutive failures)", health.Describe());

        health.RecordPassiveFailure("connect -> connection reset");
        Assert.Equal("127.0.0.2:8888 connect -> connection reset", health.Describe());
    }

    [Fact]
    public void Describe_brackets_an_ipv6_address()
    {
        var health = Models.Health(new BackendEndpoint("fd00::5", 8080, Ready: true), Models.Probe());
        Assert.Equal("[fd00::5]:8080 not probed yet", health.Describe());
    }
}
