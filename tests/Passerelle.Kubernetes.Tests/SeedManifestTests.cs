using k8s.Models;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Kubernetes.Tests;

/// <summary>The founding document's manifests (Fixtures/seed.yaml, verbatim) must load exactly as Kubernetes reads them.</summary>
public class SeedManifestTests
{
    private readonly Manifests.ManifestParseResult _result = Fixtures.Parse("seed.yaml");

    [Fact]
    public void Reads_three_objects_without_diagnostics()
    {
        Assert.True(_result.Readable);
        Assert.Empty(_result.Diagnostics);
        Assert.Equal(
            ["Deployment default/websocket-server", "Service default/websocket-app-service", "Ingress default/websocket-repeater"],
            _result.Objects.Select(o => o.Ref.ToString()));
        Assert.Equal([1, 26, 40], _result.Objects.Select(o => o.Origin!.Line));
        Assert.All(_result.Objects, o => Assert.Equal("seed.yaml", o.Origin!.File));
    }

    [Fact]
    public void Deployment_is_decoded()
    {
        var deployment = Assert.IsType<V1Deployment>(_result.Objects[0].Object);
        Assert.Equal("apps/v1", deployment.ApiVersion);
        Assert.Equal("Deployment", deployment.Kind);
        Assert.Equal("default", deployment.Metadata.NamespaceProperty);
        Assert.Equal(2, deployment.Spec.Replicas);
        Assert.Equal("ws-app", deployment.Spec.Selector.MatchLabels["app"]);
        var container = Assert.Single(deployment.Spec.Template.Spec.Containers);
        Assert.Equal("your-container-repo.azurecr.io/websockets-app", container.Image);
        Assert.Equal(8888, Assert.Single(container.Ports).ContainerPort);
        Assert.Equal("azure-container-registry-credentials", Assert.Single(deployment.Spec.Template.Spec.ImagePullSecrets).Name);
    }

    [Fact]
    public void Service_targets_port_8888()
    {
        var service = Assert.IsType<V1Service>(_result.Objects[1].Object);
        Assert.Equal("v1", service.ApiVersion);
        Assert.Equal("ws-app", service.Spec.Selector["app"]);
        var port = Assert.Single(service.Spec.Ports);
        Assert.Equal("TCP", port.Protocol);
        Assert.Equal(80, port.Port);
        Assert.Equal("8888", port.TargetPort.Value);
        Assert.Equal(36, _result.Objects[1].Origin!.LineOf("spec.ports[0].targetPort"));
    }

    [Fact]
    public void Extensions_v1beta1_ingress_is_normalised_to_v1()
    {
        var ingress = Assert.IsType<V1Ingress>(_result.Objects[2].Object);
        Assert.Equal("networking.k8s.io/v1", ingress.ApiVersion);
        Assert.Equal("Ingress", ingress.Kind);
        Assert.Equal("default", ingress.Metadata.NamespaceProperty);
        Assert.Equal("azure/application-gateway", ingress.Metadata.Annotations["kubernetes.io/ingress.class"]);
        Assert.Null(ingress.Spec.DefaultBackend);

        var rule = Assert.Single(ingress.Spec.Rules);
        Assert.Equal("ws.contoso.com", rule.Host);
        var path = Assert.Single(rule.Http.Paths);
        Assert.Null(path.Path);
        Assert.Equal("ImplementationSpecific", path.PathType);
        Assert.Null(path.Backend.Resource);
        Assert.Equal("websocket-app-service", path.Backend.Service.Name);
        Assert.Equal(80, path.Backend.Service.Port.Number);
        Assert.Null(path.Backend.Service.Port.Name);
    }

    [Theory]
    [InlineData("metadata.name", 43)]
    [InlineData("metadata.annotations[kubernetes.io/ingress.class]", 45)]
    [InlineData("spec.rules[0].host", 48)]
    [InlineData("spec.rules[0].http.paths[0]", 51)]
    [InlineData("spec.rules[0].http.paths[0].backend", 51)]
    [InlineData("spec.rules[0].http.paths[0].pathType", 51)]
    [InlineData("spec.rules[0].http.paths[0].backend.service", 52)]
    [InlineData("spec.rules[0].http.paths[0].backend.service.name", 52)]
    [InlineData("spec.rules[0].http.paths[0].backend.service.port", 53)]
    [InlineData("spec.rules[0].http.paths[0].backend.service.port.number", 53)]
    public void Ingress_fields_point_at_the_lines_written_in_the_old_shape(string field, int line)
    {
        Assert.Equal(line, _result.Objects[2].Origin!.FieldLines![field]);
    }

    [Fact]
    public void A_translator_diagnostic_on_the_new_field_names_the_line_the_user_wrote()
    {
        var diagnostic = Diagnostic.For(_result.Objects[2], DiagnosticSeverity.Warning,
            "spec.rules[0].http.paths[0].backend.service", "no endpoints");

        Assert.Equal("seed.yaml:52: warning: Ingress default/websocket-repeater: spec.rules[0].http.paths[0].backend.service: no endpoints",
            diagnostic.ToString());
    }

    [Fact]
    public void Objects_form_an_object_set()
    {
        var set = new ObjectSet(_result.Objects);

        Assert.Single(set.Deployments);
        Assert.Single(set.Services);
        Assert.Single(set.Ingresses);
    }
}
