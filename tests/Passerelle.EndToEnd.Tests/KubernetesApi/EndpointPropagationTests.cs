using System.Diagnostics;
using System.Net;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;
using Xunit.Abstractions;

namespace Passerelle.EndToEnd.Tests.KubernetesApi;

/// <summary>
/// An EndpointSlice change travels from the API server's watch event to the routing snapshot. The bound here is
/// a correctness bound, generous for a loaded CI machine; the figures are printed for the record (bench/ measures
/// manifest mode's propagation; API mode has no benchmark yet).
/// </summary>
public sealed class EndpointPropagationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task EndpointChangesReachRoutingFromTheWatchEvent()
    {
        await using var first = await TestBackend.StartAsync("web-0");
        await using var second = await TestBackend.StartAsync("web-1");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, first);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();

        var timings = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var next = i % 2 == 0 ? second : first;
            var started = Stopwatch.GetTimestamp();
            server.Apply(ApiFixtures.Slice(next.EndPoint));
            while (!Routes(gateway, next))
            {
                Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5), $"change {i} did not reach routing within 5 s");
                await Task.Delay(1);
            }

            timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        timings.Sort();
        output.WriteLine($"API event to routing over {timings.Count} EndpointSlice changes: p50 {timings[timings.Count / 2]:F1} ms, max {timings[^1]:F1} ms");
        Assert.Equal((HttpStatusCode.OK, "web-0"), await gateway.GetAsync("/whoami"));
    }

    [Fact]
    public async Task ABurstOfEventsIsCoalescedIntoFewTranslations()
    {
        await using var first = await TestBackend.StartAsync("web-0");
        await using var second = await TestBackend.StartAsync("web-1");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, first);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();
        var before = gateway.Host.Snapshots.Generation;

        // A rolling update's worth of endpoint churn, as fast as the API server can send it.
        for (var i = 0; i < 100; i++)
        {
            server.Apply(ApiFixtures.Slice(i % 2 == 0 ? second.EndPoint : first.EndPoint, i % 3 == 0 ? second.EndPoint : first.EndPoint));
        }

        server.Apply(ApiFixtures.Slice(second.EndPoint));
        await Eventually.TrueAsync(() => Routes(gateway, second), "the last state of the burst to be routed");
        var published = gateway.Host.Snapshots.Generation - before;
        output.WriteLine($"101 EndpointSlice events published {published} configuration(s)");
        Assert.InRange(published, 1, 50);
    }

    private static bool Routes(ClusterGateway gateway, TestBackend backend) =>
        gateway.Model.Pools.Values.Single().ReadyEndpoints.Select(e => e.ToString()).SequenceEqual([backend.EndPoint.ToString()]);
}
