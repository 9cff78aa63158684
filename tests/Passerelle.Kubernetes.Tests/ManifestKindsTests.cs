using k8s.Models;
using Passerelle.Kubernetes.Manifests;

namespace Passerelle.Kubernetes.Tests;

public class ManifestKindsTests
{
    [Fact]
    public void V1_ingress_with_a_port_name_is_read_as_written()
    {
        var result = Fixtures.Parse("v1-port-name.yaml");

        Assert.Empty(result.Diagnostics);
        var ingress = Assert.IsType<V1Ingress>(Assert.Single(result.Objects).Object);
        Assert.Equal("shop", ingress.Metadata.NamespaceProperty);
        Assert.Equal("30s", ingress.Metadata.Annotations["passerelle.io/request-timeout"]);
        Assert.Equal("passerelle", ingress.Spec.IngressClassName);
        Assert.Equal("shop-tls", Assert.Single(ingress.Spec.Tls).SecretName);
        var path = Assert.Single(Assert.Single(ingress.Spec.Rules).Http.Paths);
        Assert.Equal("/", path.Path);
        Assert.Equal("Prefix", path.PathType);
        Assert.Equal("web", path.Backend.Service.Name);
        Assert.Equal("http", path.Backend.Service.Port.Name);
        Assert.Null(path.Backend.Service.Port.Number);
    }

    [Fact]
    public void EndpointSlice_and_Endpoints_are_read()
    {
        var result = Fixtures.Parse("endpoints.yaml");

        Assert.Empty(result.Diagnostics);
        Assert.Equal(["EndpointSlice default/web-abc12", "Endpoints default/web"], result.Objects.Select(o => o.Ref.ToString()));

        var slice = Assert.IsType<V1EndpointSlice>(result.Objects[0].Object);
        Assert.Equal("discovery.k8s.io/v1", slice.ApiVersion);
        Assert.Equal("web", slice.Metadata.Labels["kubernetes.io/service-name"]);
        Assert.Equal("IPv4", slice.AddressType);
        Assert.Equal(8080, Assert.Single(slice.Ports).Port);
        Assert.Equal(["10.0.0.5", "10.0.0.6"], slice.Endpoints.Select(e => Assert.Single(e.Addresses)));
        Assert.Equal([true, false], slice.Endpoints.Select(e => e.Conditions.Ready));
        Assert.Equal(17, result.Objects[0].Origin!.LineOf("endpoints[1]"));

        var endpoints = Assert.IsType<V1Endpoints>(result.Objects[1].Object);
        var subset = Assert.Single(endpoints.Subsets);
        Assert.Equal("10.0.0.5", Assert.Single(subset.Addresses).Ip);
        Assert.Equal(8080, Assert.Single(subset.Ports).Port);
        Assert.Equal(22, result.Objects[1].Origin!.Line);
    }

    [Fact]
    public void Lists_are_flattened_and_their_items_keep_their_own_lines()
    {
        var result = Fixtures.Parse("list.yaml");

        Assert.Empty(result.Diagnostics);
        Assert.Equal(["Service shop/api", "IngressClass passerelle", "Service default/typed"], result.Objects.Select(o => o.Ref.ToString()));
        Assert.Equal([4, 13, 24], result.Objects.Select(o => o.Origin!.Line));

        var api = result.Objects[0];
        Assert.Equal("http", Assert.IsType<V1Service>(api.Object).Spec.Ports[0].TargetPort.Value);
        Assert.Equal(11, api.Origin!.FieldLines!["spec.ports[0].port"]);
        Assert.DoesNotContain(api.Origin.FieldLines.Keys, k => k.StartsWith("items", StringComparison.Ordinal));

        // An item of a typed list takes its kind and apiVersion from the list, as the API server omits them.
        var typed = Assert.IsType<V1Service>(result.Objects[2].Object);
        Assert.Equal("v1", typed.ApiVersion);
        Assert.Equal("Service", typed.Kind);
        Assert.Equal(8080, typed.Spec.Ports[0].Port);
    }

    [Fact]
    public void Json_files_are_read()
    {
        var result = Fixtures.Parse("objects.json");

        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(result.Objects);
        Assert.Equal("Service tools/json-service", source.Ref.ToString());
        var port = Assert.Single(Assert.IsType<V1Service>(source.Object).Spec.Ports);
        Assert.Equal("http", port.Name);
        Assert.Equal(80, port.Port);
        Assert.Equal("8080", port.TargetPort.Value);
        Assert.Equal(11, source.Origin!.FieldLines!["spec.ports[0].port"]);
    }

    [Fact]
    public void IngressClasses_are_cluster_scoped_and_v1beta1_is_read_as_v1()
    {
        var result = Fixtures.Parse("ingress-class.yaml");

        Assert.Empty(result.Diagnostics);
        Assert.Equal(["IngressClass passerelle", "IngressClass azure-application-gateway"], result.Objects.Select(o => o.Ref.ToString()));
        var passerelle = Assert.IsType<V1IngressClass>(result.Objects[0].Object);
        Assert.Null(passerelle.Metadata.NamespaceProperty);
        Assert.Equal("passerelle.io/ingress-controller", passerelle.Spec.Controller);
        Assert.Equal("true", passerelle.Metadata.Annotations["ingressclass.kubernetes.io/is-default-class"]);
        var legacy = Assert.IsType<V1IngressClass>(result.Objects[1].Object);
        Assert.Equal("networking.k8s.io/v1", legacy.ApiVersion);
        Assert.Equal("azure/application-gateway", legacy.Spec.Controller);
    }

    [Fact]
    public void Anchors_aliases_and_merge_keys_are_resolved()
    {
        var result = Fixtures.Parse("anchors.yaml");

        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(result.Objects);
        var service = Assert.IsType<V1Service>(source.Object);
        Assert.Equal(service.Metadata.Labels, service.Spec.Selector);
        Assert.Equal("web", service.Spec.Selector["tier"]);
        Assert.Equal(["http:80:8080", "alt:81:8080"], service.Spec.Ports.Select(p => $"{p.Name}:{p.Port}:{p.TargetPort.Value}"));
        Assert.Equal(16, source.Origin!.FieldLines!["spec.ports[1].name"]);
        Assert.Equal(14, source.Origin.FieldLines["spec.ports[1].targetPort"]);
    }

    [Fact]
    public void Scalars_are_typed_the_way_Kubernetes_reads_them()
    {
        var result = Fixtures.Parse("scalars.yaml");

        Assert.Empty(result.Diagnostics);
        var pod = Assert.IsType<V1Pod>(Assert.Single(result.Objects).Object);
        Assert.Equal("yes", pod.Metadata.Annotations["plain-yes"]);
        Assert.Equal("on", pod.Metadata.Annotations["plain-on"]);
        Assert.Equal("80", pod.Metadata.Annotations["quoted-number"]);
        Assert.Equal("", pod.Metadata.Annotations["empty"]);
        Assert.True(pod.Spec.HostNetwork);
        Assert.Equal(["yes", "no", "off"], Assert.Single(pod.Spec.Containers).Args);
        Assert.Equal(420, Assert.Single(pod.Spec.Volumes).ConfigMap.DefaultMode);
        Assert.Null(pod.Spec.EnableServiceLinks);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing but a comment\n")]
    [InlineData("---\n---\n~\n---\n")]
    public void Empty_documents_are_skipped(string yaml)
    {
        var result = ManifestParser.Parse(yaml, "empty.yaml");

        Assert.True(result.Readable);
        Assert.Empty(result.Objects);
        Assert.Empty(result.Diagnostics);
    }

    [Fact]
    public void Field_lines_cover_every_written_field()
    {
        var deployment = Fixtures.Parse("seed.yaml").Objects[0];

        Assert.Equal(4, deployment.Origin!.FieldLines!["metadata.name"]);
        Assert.Equal(9, deployment.Origin.FieldLines["spec.replicas"]);
        Assert.Equal(20, deployment.Origin.FieldLines["spec.template.spec.containers[0].ports[0].containerPort"]);
        Assert.Equal(22, deployment.Origin.FieldLines["spec.template.spec.imagePullSecrets[0].name"]);
    }
}
