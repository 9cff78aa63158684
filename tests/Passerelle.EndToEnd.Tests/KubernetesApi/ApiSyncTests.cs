using System.Net;
using System.Text.Json.Nodes;
using k8s.Models;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

namespace Passerelle.EndToEnd.Tests.KubernetesApi;

/// <summary>
/// <c>passerelle run --kubernetes</c> against an API server: the initial sync, then an add, a change and a
/// removal of each watched kind reaching routing (or the store, for Secrets), with real requests to real pods.
/// </summary>
public sealed class ApiSyncTests
{
    [Fact]
    public async Task InitialSyncServesTheClustersIngressesAndReportsEachKindSynced()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);

        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();

        Assert.Equal((HttpStatusCode.OK, "web-0"), await gateway.GetAsync("/whoami"));
        var (status, readyz) = await gateway.ReadyzAsync();
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", readyz.GetProperty("status").GetString());
        Assert.Equal("in sync with the Kubernetes API", readyz.GetProperty("detail").GetString());
        var kinds = readyz.GetProperty("source").GetProperty("details").GetProperty("kinds").EnumerateArray()
            .ToDictionary(k => k.GetProperty("kind").GetString()!, k => k.GetProperty("state").GetString());
        Assert.Equal(["EndpointSlice", "Ingress", "IngressClass", "Pod", "Secret", "Service"], kinds.Keys.Order());
        Assert.All(kinds.Values, state => Assert.Equal("synced", state));

        // Objects arrive self-describing (list items carry no kind) and trimmed of what the gateway never reads.
        var objects = gateway.Source.Objects();
        var ingress = (V1Ingress)Assert.Single(objects.Ingresses).Object;
        Assert.Equal("Ingress", ingress.Kind);
        Assert.Null(ingress.Metadata.ManagedFields);
        var podObject = (V1Pod)Assert.Single(objects.Pods).Object;
        Assert.Null(podObject.Status);
        Assert.Equal("/health", podObject.Spec.Containers.Single().ReadinessProbe.HttpGet.Path);
        Assert.Equal("/health", gateway.Model.Pools.Values.Single().Probe.Path);

        // Secrets are kept for TLS, and their data never reaches a log line.
        Assert.Single(objects.Secrets);
        Assert.DoesNotContain("U0VDUkVU", gateway.Logs.Dump(), StringComparison.Ordinal);
        Assert.Contains(gateway.Logs.Entries, e => e.Event.Name == "KubernetesSynced");
        Assert.DoesNotContain(gateway.Logs.Entries, e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Warning);
    }

    [Fact]
    public async Task IngressesAreAddedChangedAndRemovedLive()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();

        var other = ApiFixtures.Load("ingress-web.json");
        other["metadata"]!["name"] = "api";
        other["spec"]!["rules"]![0]!["host"] = "api.example.com";
        server.Apply(other);
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami", "api.example.com")).Status == HttpStatusCode.OK, "the new Ingress to route");

        other["spec"]!["rules"]![0]!["host"] = "api2.example.com";
        server.Apply(other);
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami", "api.example.com")).Status == HttpStatusCode.NotFound,
            "the changed host to stop routing the old one");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/whoami", "api2.example.com")).Status);

        server.Delete("Ingress", "shop", "api");
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami", "api2.example.com")).Status == HttpStatusCode.NotFound,
            "the deleted Ingress to stop routing");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/whoami")).Status);
    }

    [Fact]
    public async Task ServicesEndpointSlicesAndPodsAreFollowed()
    {
        await using var first = await TestBackend.StartAsync("web-0");
        await using var second = await TestBackend.StartAsync("web-1");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, first);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();

        // EndpointSlice modified: the second pod replaces the first.
        server.Apply(ApiFixtures.Slice(second.EndPoint));
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Body == "web-1", "the new endpoint to serve");

        // Pod modified: its readinessProbe path becomes the derived probe's.
        var pod = ApiFixtures.Load("pod-web.json");
        pod["spec"]!["containers"]![0]!["readinessProbe"]!["httpGet"]!["path"] = "/ready";
        server.Apply(pod);
        await Eventually.TrueAsync(() => gateway.Model.Pools.Values.Single().Probe.Path == "/ready", "the probe to follow the Pod");

        // Pod deleted: nothing to copy a probe from any more; added back: its probe again.
        server.Delete("Pod", "shop", "web-5c9d8f7b6d-q2wlx");
        await Eventually.TrueAsync(() => gateway.Model.Pools.Values.Single().Probe.Path == "/", "the probe to fall back to /");
        server.Apply(ApiFixtures.Load("pod-web.json"));
        await Eventually.TrueAsync(() => gateway.Model.Pools.Values.Single().Probe.Path == "/health", "the added Pod's probe to be copied");

        // Service modified: its port no longer the Ingress's, then back.
        var service = ApiFixtures.Load("service-web.json");
        service["spec"]!["ports"]![0]!["port"] = 8080;
        server.Apply(service);
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Status == HttpStatusCode.BadGateway, "a Service without the Ingress's port to answer 502");
        Assert.Contains(gateway.Host.Configuration.Diagnostics, d => d.Object?.ToString() == "Ingress shop/web");
        server.Apply(ApiFixtures.Load("service-web.json"));
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Body == "web-1", "the Service's port to serve again");

        // Service deleted: 502; added back: served again.
        server.Delete("Service", "shop", "web");
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Status == HttpStatusCode.BadGateway, "a missing Service to answer 502");
        server.Apply(ApiFixtures.Load("service-web.json"));
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Body == "web-1", "the Service to serve again");

        // EndpointSlice deleted: no endpoints; added: served by its endpoint.
        server.Delete("EndpointSlice", "shop", "web-7xk2p");
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Status == HttpStatusCode.BadGateway, "no endpoints to answer 502");
        server.Apply(ApiFixtures.Slice(first.EndPoint));
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Body == "web-0", "the added EndpointSlice to serve");
    }

    [Fact]
    public async Task IngressClassesDecideWhichIngressesAreServed()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();

        // The class now belongs to another controller: the Ingress is left to it.
        var ingressClass = ApiFixtures.Load("ingressclass-passerelle.json");
        ingressClass["spec"]!["controller"] = "k8s.io/ingress-nginx";
        server.Apply(ingressClass);
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Status == HttpStatusCode.NotFound, "the Ingress of another controller to be ignored");

        // In a cluster the class object decides: without it, "passerelle" is not claimed by name alone.
        server.Delete("IngressClass", null, "passerelle");
        // The source holding the deletion says nothing of the configuration built from it (applied a few ms later):
        // wait for the configuration that says so.
        await Eventually.TrueAsync(() => gateway.Host.Configuration.Diagnostics.Any(d => d.Message.Contains("IngressClass \"passerelle\" not found", StringComparison.Ordinal)),
            "the configuration without the class to be applied");
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.GetAsync("/whoami")).Status);

        // An Ingress without class is served when Passerelle's class is the default one.
        var defaultClass = ApiFixtures.Load("ingressclass-passerelle.json");
        defaultClass["metadata"]!["name"] = "default-gateway";
        defaultClass["metadata"]!["annotations"] = new JsonObject { ["ingressclass.kubernetes.io/is-default-class"] = "true" };
        server.Apply(defaultClass);
        var ingress = ApiFixtures.Load("ingress-web.json");
        ((JsonObject)ingress["spec"]!).Remove("ingressClassName");
        server.Apply(ingress);
        await Eventually.TrueAsync(async () => (await gateway.GetAsync("/whoami")).Status == HttpStatusCode.OK, "the default class to claim the Ingress");
    }

    [Fact]
    public async Task SecretsAreKeptInStepButNeverLogged()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        await using var gateway = await ClusterGateway.StartAsync(server);
        await gateway.WaitSyncedAsync();

        var secret = ApiFixtures.Load("secret-web-tls.json");
        secret["data"]!["tls.crt"] = "U0VDUkVULVJPVEFURUQ=";
        server.Apply(secret);
        await Eventually.TrueAsync(() => ((V1Secret)gateway.Source.Objects().Secrets.Single().Object).Data["tls.crt"].Length == "SECRET-ROTATED".Length,
            "the rotated Secret to be held");
        server.Delete("Secret", "shop", "web-tls");
        await Eventually.TrueAsync(() => gateway.Source.Objects().Secrets.Count == 0, "the deleted Secret to be dropped");

        // Secrets that cannot hold a certificate (Helm releases, tokens) are known by name only.
        var helm = ApiFixtures.Load("secret-web-tls.json");
        helm["metadata"]!["name"] = "sh.helm.release.v1.web.v1";
        helm["type"] = "helm.sh/release.v1";
        helm["data"] = new JsonObject { ["release"] = "U0VDUkVULUhFTE0tUkVMRUFTRQ==" };
        server.Apply(helm);
        await Eventually.TrueAsync(() => gateway.Source.Objects().Secrets.Count == 1, "the Helm Secret to be seen");
        Assert.Null(((V1Secret)gateway.Source.Objects().Secrets.Single().Object).Data);

        Assert.DoesNotContain("U0VDUkVU", gateway.Logs.Dump(), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET-", gateway.Logs.Dump(), StringComparison.Ordinal);
    }
}
