using k8s.Models;
using Passerelle.Kubernetes.Manifests;
using Passerelle.Model.Diagnostics;

namespace Passerelle.Kubernetes.Tests;

/// <summary>Unknown fields are warned about, as kubectl apply's strict field validation does, and otherwise ignored.</summary>
public class UnknownFieldTests
{
    [Fact]
    public void Typos_at_every_depth_are_reported_at_their_key_with_the_field_meant()
    {
        var result = Fixtures.Parse("unknown-fields.yaml");

        Assert.Equal(
            [
                "unknown-fields.yaml:11: warning: Ingress default/web: spec.rules[0].http.paths[0].pathtype: " +
                "unknown field \"pathtype\" (did you mean \"pathType\"?); it is ignored",
                "unknown-fields.yaml:22: warning: Service default/web: metadata.lables: unknown field \"lables\" (did you mean \"labels\"?); it is ignored",
                "unknown-fields.yaml:27: warning: Service default/web: spec.port: unknown field \"port\" (did you mean \"ports\"?); it is ignored",
                "unknown-fields.yaml:29: warning: Service default/web: spec.sessionAfinity: " +
                "unknown field \"sessionAfinity\" (did you mean \"sessionAffinity\"?); it is ignored",
                "unknown-fields.yaml:36: warning: Deployment default/web: spec.replicaCount: unknown field \"replicaCount\"; it is ignored",
                "unknown-fields.yaml:48: warning: Deployment default/web: spec.template.spec.containers[0].imagepullpolicy: " +
                "unknown field \"imagepullpolicy\" (did you mean \"imagePullPolicy\"?); it is ignored",
                "unknown-fields.yaml:59: warning: Ingress default/legacy: spec.backend.servicePrt: " +
                "unknown field \"servicePrt\" (did you mean \"servicePort\"?); it is ignored",
                "unknown-fields.yaml:65: warning: Ingress default/legacy: spec.rules[0].http.paths[0].backend.servicname: " +
                "unknown field \"servicname\" (did you mean \"serviceName\"?); it is ignored",
            ],
            result.Diagnostics.Select(d => d.ToString()));
        Assert.All(result.Diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
    }

    [Fact]
    public void Objects_with_unknown_fields_are_still_loaded_without_them()
    {
        var result = Fixtures.Parse("unknown-fields.yaml");

        Assert.Equal(
            ["Ingress default/web", "Service default/web", "Deployment default/web", "Ingress default/legacy"],
            result.Objects.Select(o => o.Ref.ToString()));
        var path = Assert.IsType<V1Ingress>(result.Objects[0].Object).Spec.Rules[0].Http.Paths[0];
        Assert.Null(path.PathType);
        Assert.Null(Assert.IsType<V1Service>(result.Objects[1].Object).Spec.Ports);
        var container = Assert.Single(Assert.IsType<V1Deployment>(result.Objects[2].Object).Spec.Template.Spec.Containers);
        Assert.Null(container.ImagePullPolicy);
        var legacy = Assert.IsType<V1Ingress>(result.Objects[3].Object);
        Assert.Equal("fallback", legacy.Spec.DefaultBackend.Service.Name);
        Assert.Null(legacy.Spec.DefaultBackend.Service.Port);
    }

    [Fact]
    public void The_founding_documents_manifests_have_no_unknown_fields()
    {
        var result = Fixtures.Parse("seed.yaml");

        Assert.DoesNotContain(result.Diagnostics, d => d.Severity == DiagnosticSeverity.Warning);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Maps_take_any_key_and_cluster_written_fields_are_not_checked()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              labels:
                app.kubernetes.io/name: web
                Any Key At All: "yes"
              annotations:
                pathtype: Prefix
                example.com/servicename: web
              managedFields:
                - manager: kubectl
                  fieldsV1:
                    f:metadata: {}
                  notAField: 1
            spec:
              nodeSelector:
                kubernetes.io/os: linux
              containers:
                - name: web
                  resources:
                    limits:
                      cpu: 500m
                      example.com/gpu: 1
            status:
              phase: Running
              madeUp: true
            """;

        var result = ManifestParser.Parse(yaml, "pod.yaml");

        Assert.Empty(result.Diagnostics);
        Assert.Single(result.Objects);
    }

    [Fact]
    public void An_unknown_field_at_the_top_level_is_reported()
    {
        const string yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            sepc:
              ports:
                - port: 80
            """;

        var result = ManifestParser.Parse(yaml, "svc.yaml");

        Assert.Equal("svc.yaml:5: warning: Service default/web: sepc: unknown field \"sepc\" (did you mean \"spec\"?); it is ignored",
            Assert.Single(result.Diagnostics).ToString());
        Assert.Single(result.Objects);
    }

    [Fact]
    public void The_legacy_backend_fields_are_unknown_to_a_v1_ingress()
    {
        const string yaml = """
            apiVersion: networking.k8s.io/v1
            kind: Ingress
            metadata:
              name: web
            spec:
              backend:
                serviceName: web
            """;

        var result = ManifestParser.Parse(yaml, "ing.yaml");

        Assert.Equal("ing.yaml:6: warning: Ingress default/web: spec.backend: unknown field \"backend\"; it is ignored",
            Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void An_empty_unknown_field_merged_from_an_anchor_is_reported_at_its_key()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
            spec:
              containers:
                - &base
                  name: a
                  imagepullpolicy:
                - <<: *base
                  name: b
            """;

        var result = ManifestParser.Parse(yaml, "pod.yaml");

        Assert.Equal(
            [
                "pod.yaml:9: warning: Pod default/p: spec.containers[0].imagepullpolicy: unknown field \"imagepullpolicy\" (did you mean \"imagePullPolicy\"?); it is ignored",
                "pod.yaml:9: warning: Pod default/p: spec.containers[1].imagepullpolicy: unknown field \"imagepullpolicy\" (did you mean \"imagePullPolicy\"?); it is ignored",
            ],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void Unknown_fields_are_reported_before_an_error_in_the_same_object()
    {
        const string yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              typ: ClusterIP
              ports:
                - port: abc
            """;

        var result = ManifestParser.Parse(yaml, "svc.yaml");

        Assert.Empty(result.Objects);
        Assert.Equal(
            [
                "svc.yaml:6: warning: Service default/web: spec.typ: unknown field \"typ\" (did you mean \"type\"?); it is ignored",
                "svc.yaml:8: error: Service default/web: spec.ports[0].port: expected an integer, got \"abc\"",
            ],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Theory]
    [InlineData("pathtype", "pathType")]
    [InlineData("servicname", "serviceName")]
    [InlineData("imagePullPolcy", "imagePullPolicy")]
    [InlineData("ab", null)]
    [InlineData("completelyDifferent", null)]
    public void Suggestions_are_only_close_matches(string name, string? expected)
    {
        string[] known = ["ip", "pathType", "serviceName", "servicePort", "service", "imagePullPolicy"];

        Assert.Equal(expected, FieldSuggestions.For(name, known));
    }
}
