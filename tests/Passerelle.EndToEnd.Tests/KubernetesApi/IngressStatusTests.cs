using System.Net;
using System.Text.Json.Nodes;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

namespace Passerelle.EndToEnd.Tests.KubernetesApi;

/// <summary>
/// Ingress status: the published address reaches <c>status.loadBalancer.ingress</c>, written by the one replica
/// that holds the Lease, only when it differs; every replica serves; another takes over when the leader stops
/// or is cut off from the API.
/// </summary>
public sealed class IngressStatusTests
{
    private const string Address = "203.0.113.10";

    [Fact]
    public async Task OneReplicaWritesTheStatusOnlyWhenItDiffersAndAnotherTakesOverWhenItStops()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        var a = await ClusterGateway.StartAsync(server, "replica-a", o => o.PublishAddresses = [Address]);
        await using var b = await ClusterGateway.StartAsync(server, "replica-b", o => o.PublishAddresses = [Address]);
        try
        {
            await Eventually.TrueAsync(() => StatusOf(server, "web") == Address, "the leader to write the Ingress status");
            Assert.True(a.Status!.IsLeader ^ b.Status!.IsLeader, "exactly one replica leads");
            var (leader, follower) = a.Status.IsLeader ? (a, b) : (b, a);
            Assert.Equal(leader.Token, (string?)server.Get("Lease", "passerelle", "passerelle-leader")!["spec"]!["holderIdentity"]);

            // Every replica serves traffic, leader or not, once it has synced. The status write waits for neither
            // replica's configuration: the leader publishes its own after the configuration loop's settle delay,
            // the other replica syncs on its own.
            await leader.WaitSyncedAsync();
            await follower.WaitSyncedAsync();
            Assert.Equal((HttpStatusCode.OK, "web-0"), await leader.GetAsync("/whoami"));
            Assert.Equal((HttpStatusCode.OK, "web-0"), await follower.GetAsync("/whoami"));

            // Unrelated changes cost no status write: the status is already right.
            server.Apply(ApiFixtures.Slice(pod.EndPoint, pod.EndPoint));
            var pod2 = ApiFixtures.Load("pod-web.json");
            pod2["metadata"]!["labels"]!["rev"] = "2";
            server.Apply(pod2);
            await Eventually.TrueAsync(() => leader.Source.Objects().Pods.Any(p => p.Object.Metadata.Labels.ContainsKey("rev")), "the leader to see the changes");
            var second = ApiFixtures.Load("ingress-web.json");
            second["metadata"]!["name"] = "web-2";
            second["spec"]!["rules"]![0]!["host"] = "two.example.com";
            server.Apply(second);
            await Eventually.TrueAsync(() => StatusOf(server, "web-2") == Address, "the new Ingress to get its status");
            var writes = StatusWrites(server);
            Assert.Equal(2, writes.Count);
            Assert.All(writes, w => Assert.Equal(leader.Token, w.Token));

            // The leader stops (a rolling update): it releases the Lease and the other replica takes over.
            await leader.DisposeAsync();
            await Eventually.TrueAsync(() => follower.Status!.IsLeader, "the other replica to take over");
            var third = ApiFixtures.Load("ingress-web.json");
            third["metadata"]!["name"] = "web-3";
            third["spec"]!["rules"]![0]!["host"] = "three.example.com";
            server.Apply(third);
            await Eventually.TrueAsync(() => StatusOf(server, "web-3") == Address, "the new leader to write status");
            Assert.Equal(follower.Token, StatusWrites(server).Last().Token);
            Assert.Contains(follower.Logs.Entries, e => e.Event.Name == "StatusLeaderElected");
        }
        finally
        {
            await a.DisposeAsync();
        }
    }

    [Fact]
    public async Task ALeaderCutOffFromTheApiStopsWritingAndTheLeaseExpiresToAnother()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        await using var a = await ClusterGateway.StartAsync(server, "replica-a", o => o.PublishAddresses = [Address]);
        await Eventually.TrueAsync(() => a.Status!.IsLeader, "the first replica to lead");
        await using var b = await ClusterGateway.StartAsync(server, "replica-b", o => o.PublishAddresses = [Address]);
        await b.WaitSyncedAsync();

        // Leading says nothing about having synced: the cut-off replica must have known the routes to keep serving them.
        await a.WaitSyncedAsync();
        server.Partition(a.Token, cut: true);
        await Eventually.TrueAsync(() => !a.Status!.IsLeader, "the cut-off leader to stop writing status");
        await Eventually.TrueAsync(() => b.Status!.IsLeader, "the Lease to expire to the other replica");
        Assert.Equal(b.Token, (string?)server.Get("Lease", "passerelle", "passerelle-leader")!["spec"]!["holderIdentity"]);

        // The cut-off replica still serves what it knew.
        Assert.Equal((HttpStatusCode.OK, "web-0"), await a.GetAsync("/whoami"));
    }

    [Fact]
    public async Task ThePublishServicesAddressIsFollowedAndIngressesOfOtherClassesAreLeft()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        var own = ApiFixtures.Load("service-web.json");
        own["metadata"]!["namespace"] = "passerelle";
        own["metadata"]!["name"] = "passerelle";
        own["spec"]!["type"] = "LoadBalancer";
        server.Apply(own);
        await using var gateway = await ClusterGateway.StartAsync(server, "replica-a", o =>
        {
            o.PublishService = "passerelle/passerelle";
            o.Namespaces = ["shop"];
        });
        await Eventually.TrueAsync(() => gateway.Status!.IsLeader, "the replica to lead");
        await Eventually.TrueAsync(() => gateway.Logs.Entries.Any(e => e.Event.Name == "IngressStatusWaiting"), "the wait for an address to be logged");
        Assert.Null(StatusOf(server, "web"));

        // The cloud assigns the address, then changes it: the Ingress follows.
        own["status"] = JsonNode.Parse("""{"loadBalancer":{"ingress":[{"ip":"20.50.60.70","ipMode":"VIP"}]}}""");
        server.Apply(own);
        await Eventually.TrueAsync(() => StatusOf(server, "web") == "20.50.60.70", "the Service's address to be published");
        own["status"] = JsonNode.Parse("""{"loadBalancer":{"ingress":[{"ip":"20.50.60.71","ipMode":"VIP"}]}}""");
        server.Apply(own);
        await Eventually.TrueAsync(() => StatusOf(server, "web") == "20.50.60.71", "the new address to be published");

        // The Ingress moves to another controller's class: the gateway takes its address back.
        var ingress = server.Get("Ingress", "shop", "web")!;
        ingress["spec"]!["ingressClassName"] = "nginx";
        server.Apply(ingress);
        await Eventually.TrueAsync(() => server.Get("Ingress", "shop", "web")!["status"]!["loadBalancer"]!["ingress"] is JsonArray { Count: 0 },
            "the address to be removed from an Ingress that is no longer Passerelle's");
    }

    [Fact]
    public async Task AFailedStatusUpdateIsRetriedAndReportedOnce()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        server.StatusWritesFail = true;
        await using var gateway = await ClusterGateway.StartAsync(server, "replica-a", o => o.PublishAddresses = [Address]);

        await Eventually.TrueAsync(() => StatusWrites(server).Count >= 3, "the status update to be retried");
        server.StatusWritesFail = false;
        await Eventually.TrueAsync(() => StatusOf(server, "web") == Address, "the status to be written once the API accepts it");
        var failed = Assert.Single(gateway.Logs.Entries, e => e.Event.Name == "IngressStatusFailed");
        Assert.Contains("500 InternalServerError: Internal error occurred: etcdserver: request timed out", failed.Message);
    }

    private static string? StatusOf(FakeApiServer server, string ingress) =>
        (string?)server.Get("Ingress", "shop", ingress)?["status"]?["loadBalancer"]?["ingress"]?[0]?["ip"];

    private static List<FakeRequest> StatusWrites(FakeApiServer server) =>
        server.Requests.Where(r => r.Resource == "ingresses" && r.Subresource == "status").ToList();
}
