using Passerelle.Health.Probes;
using Passerelle.Health.Tests.Infrastructure;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Tests;

public sealed class HttpProbeTests
{
    [Fact]
    public async Task A_200_is_healthy()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(200));
        using var probe = new HttpProbe();

        var result = await probe.RunAsync(backend.Endpoint, Models.Probe(), CancellationToken.None);

        Assert.True(result.Healthy);
        Assert.Equal(ProbeMode.Http, result.Kind);
        Assert.Equal(200, result.StatusCode);
        Assert.Equal("GET http://probe.test/health -> 200", result.Description);
    }

    [Fact]
    public async Task A_500_is_unhealthy()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(500));
        using var probe = new HttpProbe();

        var result = await probe.RunAsync(backend.Endpoint, Models.Probe(path: "/ready"), CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal(500, result.StatusCode);
        Assert.Equal("GET http://probe.test/ready -> 500", result.Description);
    }

    [Fact]
    public async Task The_probe_host_is_sent_in_Host_and_the_path_is_requested()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(200));
        using var probe = new HttpProbe();

        await probe.RunAsync(backend.Endpoint, Models.Probe(path: "/healthz") with { Host = "api.contoso.com" }, CancellationToken.None);

        var request = Assert.Single(backend.Requests);
        Assert.Equal(new ReceivedRequest("GET", "/healthz", "api.contoso.com", WebSocket: false), request);
    }

    [Fact]
    public async Task The_healthy_statuses_are_the_probes_ranges()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(401));
        using var probe = new HttpProbe();

        var byDefault = await probe.RunAsync(backend.Endpoint, Models.Probe(), CancellationToken.None);
        var custom = await probe.RunAsync(backend.Endpoint, Models.Probe(statuses: "200-399, 401"), CancellationToken.None);

        Assert.False(byDefault.Healthy);
        Assert.True(custom.Healthy);
        Assert.Equal("GET http://probe.test/health -> 401", custom.Description);
    }

    [Fact]
    public async Task A_redirect_is_a_status_and_is_not_followed()
    {
        await using var backend = await Backend.StartAsync(context =>
        {
            context.Response.Redirect("/login");
            return Task.CompletedTask;
        });
        using var probe = new HttpProbe();

        var result = await probe.RunAsync(backend.Endpoint, Models.Probe(), CancellationToken.None);

        Assert.True(result.Healthy);
        Assert.Equal(302, result.StatusCode);
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task A_probe_port_overrides_the_endpoint_port()
    {
        await using var backend = await Backend.StartAsync(Handlers.Status(200));
        using var probe = new HttpProbe();
        var endpoint = new BackendEndpoint("127.0.0.1", RawListeners.ClosedPort(), Ready: true);

        var result = await probe.RunAsync(endpoint, Models.Probe(port: backend.Port), CancellationToken.None);

        Assert.True(result.Healthy);
        Assert.Single(backend.Requests);
    }

    [Fact]
    public async Task A_backend_that_never_answers_times_out()
    {
        await using var listener = new SilentListener();
        using var probe = new HttpProbe();
        var endpoint = new BackendEndpoint("127.0.0.1", listener.Port, Ready: true);

        var result = await probe.RunAsync(endpoint, Models.Probe(timeout: TimeSpan.FromSeconds(1)), CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Null(result.StatusCode);
        Assert.Equal("GET http://probe.test/health -> no answer within 1 s", result.Description);
        Assert.InRange(result.Latency, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));
        Assert.Equal(1, listener.Accepted);
    }

    [Fact]
    public async Task A_closed_port_is_connection_refused()
    {
        using var probe = new HttpProbe();
        var endpoint = new BackendEndpoint("127.0.0.1", RawListeners.ClosedPort(), Ready: true);

        var result = await probe.RunAsync(endpoint, Models.Probe(), CancellationToken.None);

        Assert.False(result.Healthy);
        Assert.Equal("GET http://probe.test/health -> connection refused", result.Description);
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_reported_as_a_timeout()
    {
        await using var listener = new SilentListener();
        using var probe = new HttpProbe();
        using var stopping = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var endpoint = new BackendEndpoint("127.0.0.1", listener.Port, Ready: true);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            probe.RunAsync(endpoint, Models.Probe(timeout: TimeSpan.FromSeconds(30)), stopping.Token));
    }
}
