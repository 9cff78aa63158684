using k8s.Models;
using Passerelle.Kubernetes.Manifests;

namespace Passerelle.Kubernetes.Tests;

public class LegacyIngressTests
{
    [Fact]
    public void Networking_v1beta1_ingress_with_a_named_port_is_normalised()
    {
        var result = Fixtures.Parse("v1beta1-named-port.yaml");

        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(result.Objects);
        Assert.Equal("Ingress apps/chat", source.Ref.ToString());
        var ingress = Assert.IsType<V1Ingress>(source.Object);
        Assert.Equal("networking.k8s.io/v1", ingress.ApiVersion);

        Assert.Equal("fallback", ingress.Spec.DefaultBackend.Service.Name);
        Assert.Equal(8080, ingress.Spec.DefaultBackend.Service.Port.Number);

        var paths = Assert.Single(ingress.Spec.Rules).Http.Paths;
        Assert.Equal("/rooms", paths[0].Path);
        Assert.Equal("ImplementationSpecific", paths[0].PathType);
        Assert.Equal("chat-service", paths[0].Backend.Service.Name);
        Assert.Equal("http", paths[0].Backend.Service.Port.Name);
        Assert.Null(paths[0].Backend.Service.Port.Number);

        Assert.Equal("/health", paths[1].Path);
        Assert.Equal("Exact", paths[1].PathType);
        Assert.Equal(9090, paths[1].Backend.Service.Port.Number);
        Assert.Null(paths[1].Backend.Service.Port.Name);
    }

    [Theory]
    [InlineData("metadata.namespace", 6)]
    [InlineData("spec.defaultBackend", 8)]
    [InlineData("spec.defaultBackend.service.name", 9)]
    [InlineData("spec.defaultBackend.service.port.number", 10)]
    [InlineData("spec.rules[0].http.paths[0].backend.service.port.name", 18)]
    [InlineData("spec.rules[0].http.paths[1].backend.service.port.number", 23)]
    public void Moved_fields_keep_their_lines(string field, int line)
    {
        var source = Assert.Single(Fixtures.Parse("v1beta1-named-port.yaml").Objects);

        Assert.Equal(line, source.Origin!.FieldLines![field]);
    }

    [Fact]
    public void A_resource_backend_is_left_as_it_is()
    {
        const string yaml = """
            apiVersion: networking.k8s.io/v1beta1
            kind: Ingress
            metadata:
              name: assets
            spec:
              backend:
                resource:
                  apiGroup: k8s.example.com
                  kind: StorageBucket
                  name: static-assets
            """;

        var ingress = Assert.IsType<V1Ingress>(Assert.Single(ManifestParser.Parse(yaml, "a.yaml").Objects).Object);

        Assert.Null(ingress.Spec.DefaultBackend.Service);
        Assert.Equal("StorageBucket", ingress.Spec.DefaultBackend.Resource.Kind);
    }

    [Fact]
    public void A_service_port_of_the_wrong_type_is_reported_at_its_line()
    {
        const string yaml = """
            apiVersion: extensions/v1beta1
            kind: Ingress
            metadata:
              name: broken
            spec:
              rules:
                - http:
                    paths:
                      - path: /
                        backend:
                          serviceName: web
                          servicePort: true
            """;

        var result = ManifestParser.Parse(yaml, "a.yaml");

        Assert.Empty(result.Objects);
        Assert.Equal(
            "a.yaml:12: error: Ingress default/broken: spec.rules[0].http.paths[0].backend.service.port.number: expected an integer, got true",
            Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void A_malformed_rule_is_left_for_decoding_to_report()
    {
        const string yaml = """
            apiVersion: extensions/v1beta1
            kind: Ingress
            metadata:
              name: broken
            spec:
              rules:
                - host: a.example.com
                  http: oops
            """;

        var result = ManifestParser.Parse(yaml, "a.yaml");

        Assert.Empty(result.Objects);
        Assert.Equal("a.yaml:8: error: Ingress default/broken: spec.rules[0].http: expected a mapping, got \"oops\"",
            Assert.Single(result.Diagnostics).ToString());
    }
}
