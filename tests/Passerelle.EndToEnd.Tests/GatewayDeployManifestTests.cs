using System.CommandLine;
using k8s;
using k8s.Models;
using Passerelle.Cli;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;
using Passerelle.Kubernetes.Api;
using Passerelle.Kubernetes.Files;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Translation;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// deploy/gateway must install a gateway that works: its manifests read without error by the gateway's own
/// parser, its arguments accepted by the gateway's own command line, its probes and ports agreeing, and its
/// RBAC granting exactly what the code calls (<see cref="ApiPermissions"/>), which the fake API server checks
/// against every request the gateway really makes.
/// </summary>
public sealed class GatewayDeployManifestTests
{
    private static readonly string Folder = Path.Combine(GatewayUnderTest.RepositoryRoot, "deploy", "gateway");

    [Fact]
    public void TheManifestsParseAndAgreeWithEachOtherAndWithTheCommandLine()
    {
        var manifests = new ManifestFiles([Folder]).Load();
        Assert.DoesNotContain(manifests.Diagnostics, d => d.Severity >= DiagnosticSeverity.Warning);

        var deployment = (V1Deployment)manifests.Objects.Deployments.Single().Object;
        var service = (V1Service)manifests.Objects.Services.Single().Object;
        var pod = deployment.Spec.Template;
        var container = pod.Spec.Containers.Single();
        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal("LoadBalancer", service.Spec.Type);
        Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, pod.Metadata.Labels[label.Key]));

        // The arguments are the gateway's own: parsed by its command line, without error.
        Assert.Equal("run", container.Args[0]);
        var parse = RunCommand.Create().Parse(container.Args.Skip(1).ToArray());
        Assert.Empty(parse.Errors);
        var httpPort = parse.GetValue<int>("--http-port");
        var adminPort = parse.GetValue<int>("--admin-port");
        Assert.True(parse.GetValue<bool>("--kubernetes"));
        Assert.Equal("0.0.0.0", parse.GetValue<System.Net.IPAddress>("--admin-address")!.ToString());
        Assert.Equal($"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}", parse.GetValue<string>("--publish-service"));

        int PortOf(string name) => container.Ports.Single(p => p.Name == name).ContainerPort;
        Assert.Equal(httpPort, PortOf("http"));
        Assert.Equal(adminPort, PortOf("admin"));
        Assert.Equal("http", service.Spec.Ports.Single().TargetPort.Value);
        Assert.Equal(("/readyz", "admin"), (container.ReadinessProbe.HttpGet.Path, container.ReadinessProbe.HttpGet.Port.Value));
        Assert.Equal(("/healthz", "admin"), (container.LivenessProbe.HttpGet.Path, container.LivenessProbe.HttpGet.Port.Value));
        Assert.NotNull(container.Resources.Requests);
        Assert.True(container.SecurityContext.ReadOnlyRootFilesystem);
        Assert.True(container.SecurityContext.RunAsNonRoot);
        Assert.False(container.SecurityContext.AllowPrivilegeEscalation);
        Assert.Contains(container.Env, e => e.Name == "POD_NAME" && e.ValueFrom.FieldRef.FieldPath == "metadata.name");

        // The classes: Passerelle's own, and AGIC's for clusters moving over, with the controllers the code answers.
        var classes = manifests.Objects.IngressClasses.Select(c => (V1IngressClass)c.Object).ToDictionary(c => c.Metadata.Name, c => c.Spec.Controller);
        Assert.Equal(IngressClasses.PasserelleController, classes[IngressClasses.Passerelle]);
        Assert.Equal(IngressClasses.ApplicationGateway, classes[IngressClasses.ApplicationGatewayClassName]);
        Assert.All(classes.Values, c => Assert.Contains(c, IngressClassPolicy.Default.Controllers));
    }

    [Fact]
    public void TheRbacGrantsExactlyWhatTheCodeCalls()
    {
        var objects = Directory.EnumerateFiles(Folder, "*.yaml").SelectMany(f => KubernetesYaml.LoadAllFromString(File.ReadAllText(f))).ToList();
        var account = objects.OfType<V1ServiceAccount>().Single();
        var deployment = objects.OfType<V1Deployment>().Single();
        Assert.Equal(account.Metadata.Name, deployment.Spec.Template.Spec.ServiceAccountName);
        Assert.Equal(account.Metadata.NamespaceProperty, deployment.Metadata.NamespaceProperty);

        var clusterRole = objects.OfType<V1ClusterRole>().Single();
        var clusterBinding = objects.OfType<V1ClusterRoleBinding>().Single();
        Assert.Equal(clusterRole.Metadata.Name, clusterBinding.RoleRef.Name);
        Assert.Equal((account.Metadata.Name, account.Metadata.NamespaceProperty), (clusterBinding.Subjects.Single().Name, clusterBinding.Subjects.Single().NamespaceProperty));
        Assert.Equal(Flatten(ApiPermissions.Watching), Flatten(clusterRole.Rules));

        // The Lease: a Role in the gateway's own namespace, nothing cluster-wide.
        var role = objects.OfType<V1Role>().Single();
        var binding = objects.OfType<V1RoleBinding>().Single();
        Assert.Equal(deployment.Metadata.NamespaceProperty, role.Metadata.NamespaceProperty);
        Assert.Equal(role.Metadata.Name, binding.RoleRef.Name);
        Assert.Equal(account.Metadata.Name, binding.Subjects.Single().Name);
        Assert.Equal(Flatten(ApiPermissions.LeaderElection), Flatten(role.Rules));
    }

    [Fact]
    public async Task EveryRequestTheGatewayMakesIsOneThePermissionsAllow()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        server.Apply(ApiFixtures.Load("service-unreadable.json"));

        // Two replicas, so that the Lease is created, renewed, taken over and released; an Ingress so that its
        // status is written; an unreadable object so that the item-by-item list is used too.
        var a = await ClusterGateway.StartAsync(server, "replica-a", o => o.PublishAddresses = ["203.0.113.10"]);
        await using var b = await ClusterGateway.StartAsync(server, "replica-b", o => o.PublishAddresses = ["203.0.113.10"]);
        await Eventually.TrueAsync(() => server.Get("Ingress", "shop", "web")!["status"]?["loadBalancer"]?["ingress"] is not null, "the status to be written");
        var leader = a.Status!.IsLeader ? a : b;
        var follower = leader == a ? b : a;
        await leader.DisposeAsync();
        await Eventually.TrueAsync(() => follower.Status!.IsLeader, "the other replica to take over");
        await a.DisposeAsync();

        var granted = Flatten(ApiPermissions.Watching).Concat(Flatten(ApiPermissions.LeaderElection)).ToHashSet();
        var made = server.Requests
            .Select(r => (r.Group, r.Subresource is null ? r.Resource : $"{r.Resource}/{r.Subresource}", r.Verb))
            .Distinct()
            .ToList();
        Assert.All(made, request => Assert.Contains(request, granted));
        Assert.Contains(("coordination.k8s.io", "leases", "update"), made);
        Assert.Contains(("networking.k8s.io", "ingresses/status", "patch"), made);
    }

    private static SortedSet<(string Group, string Resource, string Verb)> Flatten(IEnumerable<ApiPermission> permissions) =>
        new(permissions.SelectMany(p => p.Verbs.Select(v => (p.Group, p.Resource, v))));

    private static SortedSet<(string Group, string Resource, string Verb)> Flatten(IEnumerable<V1PolicyRule> rules) =>
        new(rules.SelectMany(r => r.ApiGroups.SelectMany(g => r.Resources.SelectMany(res => r.Verbs.Select(v => (g, res, v))))));
}
