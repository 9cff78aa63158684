using k8s.Models;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.Kubernetes.Files;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Translation;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// deploy/websocket-app and the chat server's Dockerfile must agree with each other and with the server: the
/// Service selects the Deployment's pods, its targetPort is the container's port, the probes hit /health on it,
/// the image exposes it, and the gateway derives a probe on /health from them.
/// </summary>
public sealed class DeployManifestTests
{
    private static string Repo => GatewayUnderTest.RepositoryRoot;

    [Fact]
    public void TheProductionManifestsParseWithoutErrorsAndAgree()
    {
        var manifests = new ManifestFiles([Path.Combine(Repo, "deploy", "websocket-app")]).Load();
        Assert.DoesNotContain(manifests.Diagnostics, d => d.Severity >= DiagnosticSeverity.Warning);

        var deployment = (V1Deployment)manifests.Objects.Deployments.Single(d => d.Object.Metadata.Name == "websocket-server").Object;
        var service = (V1Service)manifests.Objects.Services.Single(s => s.Object.Metadata.Name == "websocket-app-service").Object;
        var ingress = (V1Ingress)manifests.Objects.Ingresses.Single().Object;
        var container = deployment.Spec.Template.Spec.Containers.Single(c => c.Name == "websocket-app");

        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, deployment.Spec.Template.Metadata.Labels[label.Key]));
        Assert.All(deployment.Spec.Selector.MatchLabels, label => Assert.Equal(label.Value, deployment.Spec.Template.Metadata.Labels[label.Key]));

        var containerPort = container.Ports.Single().ContainerPort;
        Assert.Equal(8888, containerPort);
        Assert.Equal(80, service.Spec.Ports.Single().Port);
        Assert.Equal(containerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), service.Spec.Ports.Single().TargetPort.Value);
        foreach (var probe in new[] { container.ReadinessProbe, container.LivenessProbe })
        {
            Assert.Equal("/health", probe.HttpGet.Path);
            Assert.Equal(containerPort.ToString(System.Globalization.CultureInfo.InvariantCulture), probe.HttpGet.Port.Value);
        }

        Assert.Equal("websocket-app-service", ingress.Spec.Rules.Single().Http.Paths.Single().Backend.Service.Name);
        Assert.Equal(service.Spec.Ports.Single().Port, ingress.Spec.Rules.Single().Http.Paths.Single().Backend.Service.Port.Number);

        // Each replica must reach the Redis Service the other manifest defines.
        var redis = (V1Service)manifests.Objects.Services.Single(s => s.Object.Metadata.Name == "redis").Object;
        Assert.Contains($"redis:{redis.Spec.Ports.Single().Port}", container.Args);
    }

    [Fact]
    public void TheGatewayServesThemAndProbesHealth()
    {
        var manifests = new ManifestFiles([Path.Combine(Repo, "deploy", "websocket-app")]).Load();
        var model = GatewayTranslator.Translate(manifests.Objects);

        var route = Assert.Single(model.Routes);
        Assert.Equal("ws.contoso.com", route.Host);
        var pool = model.Pools[route.PoolKey];
        Assert.Equal("/health", pool.Probe.Path);
        Assert.Equal("ws.contoso.com", pool.Probe.Host);
        Assert.Null(pool.Probe.Port);

        // Without a cluster there are no endpoints: that is the one thing the gateway warns about.
        var warning = Assert.Single(model.Diagnostics);
        Assert.Contains("has no Endpoints or EndpointSlice", warning.Message);
    }

    [Fact]
    public void TheImageExposesTheServersPort()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(Repo, "samples", "ChatServer", "Dockerfile"));
        var port = new Uri(ChatServer.ChatServerApp.DefaultUrl.Replace("0.0.0.0", "localhost", StringComparison.Ordinal)).Port;

        Assert.Equal(8888, port);
        Assert.Contains($"EXPOSE {port}", dockerfile);
        Assert.Contains($"ENV ASPNETCORE_URLS=http://0.0.0.0:{port}", dockerfile);
        Assert.Contains(dockerfile, l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal) && l.Contains("ChatServer.dll", StringComparison.Ordinal));
        Assert.Contains(dockerfile, l => l.StartsWith("USER $APP_UID", StringComparison.Ordinal));
    }

    [Fact]
    public void TheDemoManifestsAreTheSeedsWithAReadinessProbeOnHealth()
    {
        var seed = new ManifestFiles([Path.Combine(Repo, "deploy", "seed")]).Load();
        var demo = new ManifestFiles([Path.Combine(Repo, "deploy", "demo")]).Load();
        Assert.Empty(seed.Diagnostics);
        Assert.DoesNotContain(demo.Diagnostics, d => d.Severity >= DiagnosticSeverity.Warning);

        var seedIngress = (V1Ingress)seed.Objects.Ingresses.Single().Object;
        var demoIngress = (V1Ingress)demo.Objects.Ingresses.Single(i => i.Object.Metadata.Name == seedIngress.Metadata.Name).Object;
        Assert.Equal(seedIngress.Spec.Rules.Single().Host, demoIngress.Spec.Rules.Single().Host);
        var container = ((V1Deployment)demo.Objects.Deployments.Single().Object).Spec.Template.Spec.Containers.Single();
        Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
    }
}
