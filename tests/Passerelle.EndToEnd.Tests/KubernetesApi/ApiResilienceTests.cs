using System.Net;
using Microsoft.Extensions.Logging;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;
using Passerelle.Kubernetes.Api;

namespace Passerelle.EndToEnd.Tests.KubernetesApi;

/// <summary>
/// What the API server does to watches in real life (drops them, forgets old resourceVersions, goes away for a
/// while) must cost the gateway nothing: no lost or doubled event, no emptied routing table, one log line per outage.
/// </summary>
public sealed class ApiResilienceTests
{
    [Fact]
    public async Task DroppedWatchesResumeWithoutLosingOrRepeatingAnEvent()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();
        var applied = new System.Collections.Concurrent.ConcurrentQueue<AppliedChange>();
        foreach (var reflector in gateway.Source.Reflectors)
        {
            reflector.Applied = applied.Enqueue;
        }

        var expected = new List<long>();
        var slice = ApiFixtures.Slice(pod.EndPoint);
        for (var i = 0; i < 10; i++)
        {
            // Each change is made while the watches are broken or just after they broke. Each watch has delivered
            // a bookmark first: one that breaks before delivering anything is a failure, not a drop.
            await WatchesDeliveringAsync(server, gateway);
            server.DropWatches();
            slice["metadata"]!["labels"]!["round"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            expected.Add(server.Apply(slice));
        }

        await Eventually.TrueAsync(() => applied.Count(a => a.Kind == "EndpointSlice") >= expected.Count, "every change to be applied");
        var seen = applied.Where(a => a.Kind == "EndpointSlice").Select(a => long.Parse(a.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(expected, seen);
        Assert.DoesNotContain(applied, a => a.Type.StartsWith("Listed", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/whoami")).Status);
        Assert.True(!gateway.Logs.Entries.Any(e => e.Event.Name == "KubernetesUnreachable"), gateway.Logs.Dump());
    }

    [Fact]
    public async Task A410GoneRelistsAndSeesTheDeletionMadeDuringTheGap()
    {
        await using var first = await TestBackend.StartAsync("web-0");
        await using var second = await TestBackend.StartAsync("web-1");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, first);
        var other = ApiFixtures.Load("ingress-web.json");
        other["metadata"]!["name"] = "old";
        other["spec"]!["rules"]![0]!["host"] = "old.example.com";
        server.Apply(other);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/whoami", "old.example.com")).Status);

        // While the gateway is cut off, an Ingress is deleted and the endpoints move; then the history the
        // gateway would resume from is compacted away, so its watches get 410 Gone and must list again.
        server.Partition(gateway.Token, cut: true);
        server.Delete("Ingress", "shop", "old");
        server.Apply(ApiFixtures.Slice(second.EndPoint));
        server.CompactHistory();
        server.Partition(gateway.Token, cut: false);

        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami", "old.example.com")).Status == HttpStatusCode.NotFound,
            "the deletion made during the gap to be seen");
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Body == "web-1", "the endpoint change made during the gap to be seen");
    }

    [Fact]
    public async Task AWatchAnswered410ListsAgainAtOnce()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();
        await WatchesDeliveringAsync(server, gateway);

        // The watches break and cannot resume before the history they would resume from is compacted away.
        server.HoldWatches = true;
        server.DropWatches();
        server.Delete("Ingress", "shop", "web");
        server.CompactHistory();
        server.HoldWatches = false;

        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Status == HttpStatusCode.NotFound, "the deletion to be seen after relisting");
        Assert.Contains(gateway.Logs.Entries, e => e.Event.Name == "KubernetesWatchExpired");
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Event.Name == "KubernetesUnreachable");
    }

    [Fact]
    public async Task AnOutageKeepsTheRoutesServingAndIsReportedOnce()
    {
        await using var first = await TestBackend.StartAsync("web-0");
        await using var second = await TestBackend.StartAsync("web-1");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, first);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();

        server.Answering = false;
        await Eventually.TrueAsync(() => gateway.Logs.Entries.Any(e => e.Event.Name == "KubernetesUnreachable"), "the outage to be noticed");

        // Several retries later (backoff 50-400 ms here) the routes still serve, readiness stays 200 and says why.
        await Eventually.TrueAsync(() => server.Requests.Count(r => r.Verb == "list") > 0 && gateway.Source.Reflectors.All(r => r.Status.State == "failing"),
            "every kind to be failing");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal((HttpStatusCode.OK, "web-0"), await gateway.GetAsync("/whoami"));
        }

        var (status, readyz) = await gateway.ReadyzAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("serving the last known configuration: the Kubernetes API cannot be reached since", readyz.GetProperty("detail").GetString());
        var kinds = readyz.GetProperty("source").GetProperty("details").GetProperty("kinds").EnumerateArray().ToList();
        Assert.All(kinds, k =>
        {
            Assert.Equal("failing", k.GetProperty("state").GetString());
            Assert.False(string.IsNullOrEmpty(k.GetProperty("lastError").GetString()));
            Assert.Equal(1, k.GetProperty("objects").GetInt32());
        });

        // A change made while the gateway cannot see it is applied once the API is back.
        server.Answering = true;
        server.Apply(ApiFixtures.Slice(second.EndPoint));
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Body == "web-1", "the change made during the outage to apply");
        await Eventually.TrueAsync(() => gateway.Logs.Entries.Any(e => e.Event.Name == "KubernetesRecovered"), "the recovery to be logged");
        Assert.Equal(1, gateway.Logs.Entries.Count(e => e.Event.Name == "KubernetesUnreachable"));
        Assert.Equal(1, gateway.Logs.Entries.Count(e => e.Event.Name == "KubernetesRecovered"));
        Assert.Equal(1, gateway.Logs.Entries.Count(e => e.Level >= LogLevel.Warning));
        Assert.Equal("in sync with the Kubernetes API", (await gateway.ReadyzAsync()).Body.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ReadinessWaitsForTheFirstSyncWhileTheApiIsAway()
    {
        await using var server = await FakeApiServer.StartAsync();
        server.Answering = false;
        await using var gateway = await ClusterGateway.StartAsync(server);
        await Eventually.TrueAsync(() => gateway.Logs.Entries.Any(e => e.Event.Name == "KubernetesUnreachable"), "the API to be found unreachable");

        var (status, readyz) = await gateway.ReadyzAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("waiting for the first list of", readyz.GetProperty("detail").GetString());

        // An empty cluster is a normal start: ready, answering 404.
        server.Answering = true;
        await gateway.WaitSyncedAsync();
        Assert.Equal(HttpStatusCode.OK, (await gateway.ReadyzAsync()).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync("/")).Status);
    }

    [Fact]
    public async Task ObjectsTheClientCannotReadNeverStopTheOthers()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        server.Apply(ApiFixtures.Load("service-unreadable.json"));

        // An Ingress that fails translation sits beside the good one.
        var bad = ApiFixtures.Load("ingress-web.json");
        bad["metadata"]!["name"] = "bad";
        bad["spec"]!["rules"]![0]!["host"] = "Not A Host";
        server.Apply(bad);

        await using var gateway = await ClusterGateway.StartAsync(server, configure: o => o.PageSize = 2);
        await gateway.WaitSyncedAsync();
        Assert.Equal((HttpStatusCode.OK, "web-0"), await gateway.GetAsync("/whoami"));
        var diagnostics = gateway.Host.Configuration.Diagnostics.Select(d => d.ToString()).ToList();
        Assert.Contains(diagnostics, d => d.StartsWith("error: Service shop/odd: cannot be read from the Kubernetes API", StringComparison.Ordinal)
            && d.EndsWith("it is left out", StringComparison.Ordinal));
        Assert.Contains(diagnostics, d => d.Contains("Ingress shop/bad: spec.rules[0].host", StringComparison.Ordinal));

        // An unreadable watch event: the list that follows names the object, and keeps its last good version.
        var web = ApiFixtures.Load("service-web.json");
        web["spec"]!["ports"]![0]!["port"] = "eighty";
        server.Apply(web);
        await Eventually.TrueAsync(() => gateway.Host.Configuration.Diagnostics.Any(d => d.ToString().StartsWith("error: Service shop/web: cannot be read", StringComparison.Ordinal)),
            "the unreadable Service to be reported");
        Assert.Contains(gateway.Host.Configuration.Diagnostics, d => d.ToString().EndsWith("its last readable version is kept", StringComparison.Ordinal));
        Assert.Equal((HttpStatusCode.OK, "web-0"), await gateway.GetAsync("/whoami"));

        // Fixed: the diagnostic goes.
        server.Apply(ApiFixtures.Load("service-web.json"));
        await Eventually.TrueAsync(() => !gateway.Host.Configuration.Diagnostics.Any(d => d.ToString().Contains("Service shop/web: cannot be read", StringComparison.Ordinal)),
            "the diagnostic to be resolved");
    }

    /// <summary>Waits until every watch is open and has delivered a bookmark, so that breaking it is a drop.</summary>
    private static async Task WatchesDeliveringAsync(FakeApiServer server, ClusterGateway gateway)
    {
        await Eventually.TrueAsync(() => server.OpenWatches == gateway.Source.Reflectors.Count, "every watch to be open");
        var version = server.SendBookmarks().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Eventually.TrueAsync(() => gateway.Source.Reflectors.All(r => r.Status.ResourceVersion == version),
            $"every watch to deliver the bookmark {version}: " + string.Join(", ", gateway.Source.Reflectors.Select(r => $"{r.Status.Kind} {r.Status.ResourceVersion}"))
            + " " + string.Join(" ", server.Queries.Where(q => q.Contains("watch", StringComparison.Ordinal)).Take(2)));
    }
}
