using Passerelle.Kubernetes.Manifests;
using Passerelle.Model.Diagnostics;

namespace Passerelle.Kubernetes.Tests;

public class ManifestErrorTests
{
    [Fact]
    public void A_syntax_error_makes_the_whole_file_unreadable()
    {
        var result = Fixtures.Parse("syntax-error.yaml");

        Assert.False(result.Readable);
        Assert.Empty(result.Objects);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(13, diagnostic.Line);
        Assert.Equal("syntax-error.yaml:13: error: invalid YAML at column 13: while scanning a plain scalar value, found invalid mapping",
            diagnostic.ToString());
    }

    [Theory]
    [InlineData("a: 1\na: 2\n", "x.yaml:2: error: invalid YAML at column 1: key \"a\" appears twice in the same mapping")]
    [InlineData("a: *nope\n", "x.yaml:1: error: invalid YAML: alias *nope refers to no anchor (&nope) defined before it")]
    [InlineData("a: &x [ *x ]\n", "x.yaml:1: error: invalid YAML at column 4: an alias refers to a node that contains it")]
    [InlineData("? [a]\n: 1\n", "x.yaml:1: error: invalid YAML at column 3: a mapping key must be a scalar, not a list or a mapping")]
    [InlineData("a:\n  <<: 5\n", "x.yaml:2: error: invalid YAML at column 7: a merge key (<<) takes a mapping or a list of mappings")]
    [InlineData("a: [1, 2\n", "x.yaml:2: error: invalid YAML at column 1: while parsing a flow sequence, did not find expected ',' or ']'")]
    public void Yaml_errors_are_worded_for_the_user(string yaml, string expected)
    {
        var result = ManifestParser.Parse(yaml, "x.yaml");

        Assert.False(result.Readable);
        Assert.Equal(expected, Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void Alias_bombs_are_refused()
    {
        var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
        for (var level = 'b'; level <= 'i'; level++)
        {
            var previous = (char)(level - 1);
            yaml += $"{level}: &{level} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n";
        }

        var result = ManifestParser.Parse(yaml, "bomb.yaml");

        Assert.False(result.Readable);
        Assert.Contains("too large once its aliases are expanded", Assert.Single(result.Diagnostics).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deep_nesting_is_refused_before_it_can_overflow_the_stack()
    {
        var yaml = "a: " + new string('[', 100_000) + new string(']', 100_000) + "\n";

        var result = ManifestParser.Parse(yaml, "deep.yaml");

        Assert.False(result.Readable);
        Assert.Equal("deep.yaml:1: error: invalid YAML at column 259: nested more than 256 levels deep",
            Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void A_type_error_skips_only_its_object_and_names_field_and_line()
    {
        var result = Fixtures.Parse("type-error.yaml");

        Assert.True(result.Readable);
        Assert.Equal(["Service default/good"], result.Objects.Select(o => o.Ref.ToString()));
        Assert.Equal(
            [
                "type-error.yaml:8: error: Service default/bad-port: spec.ports[0].port: expected an integer, got \"abc\"",
                "type-error.yaml:24: error: Service shop/ports-not-a-list: spec.ports: expected a list, got a mapping",
                "type-error.yaml:45: error: Deployment default/bad-quantity: spec.template.spec.containers[0].resources.limits.cpu: " +
                "expected a quantity such as 250m, 2 or 1Gi, got \"100mm\"",
            ],
            result.Diagnostics.Select(d => d.ToString()));
        var first = result.Diagnostics[0];
        Assert.Equal("spec.ports[0].port", first.Field);
        Assert.Equal(8, first.Line);
        Assert.Equal("Service default/bad-port", first.Object!.ToString());
    }

    [Theory]
    [InlineData("port: 99999999999", "spec.ports[0].port: expected an integer from -2147483648 to 2147483647, got 99999999999")]
    [InlineData("port: 80.5", "spec.ports[0].port: expected an integer, got 80.5")]
    [InlineData("port: 80\n      targetPort: true", "spec.ports[0].targetPort: expected an integer or a string, got true")]
    [InlineData("port: 80\n      name: [http]", "spec.ports[0].name: expected a string, got a list")]
    public void Type_errors_say_what_was_expected(string port, string expected)
    {
        var yaml = $"""
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              ports:
                - {port}
            """;

        var result = ManifestParser.Parse(yaml, "svc.yaml");

        Assert.Empty(result.Objects);
        var diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal($"svc.yaml:{7 + port.Count(c => c == '\n')}: error: Service default/web: {expected}", diagnostic.ToString());
    }

    [Fact]
    public void A_bad_time_is_located_although_the_decoder_gives_no_path()
    {
        const string yaml = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: p
              creationTimestamp: yesterday
            """;

        var result = ManifestParser.Parse(yaml, "pod.yaml");

        Assert.Equal("pod.yaml:5: error: Pod default/p: metadata.creationTimestamp: expected an RFC 3339 time such as 2024-01-31T12:00:00Z, got \"yesterday\"",
            Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void A_lone_dash_in_a_list_is_reported()
    {
        const string yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              ports:
                - port: 80
                -
            """;

        var result = ManifestParser.Parse(yaml, "svc.yaml");

        Assert.Empty(result.Objects);
        Assert.Equal("svc.yaml:6: error: Service default/web: spec.ports[1]: empty list item (a lone \"-\"); remove it or give it a value",
            Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void Objects_without_kind_or_name_are_skipped_with_the_missing_field_named()
    {
        var result = Fixtures.Parse("missing-fields.yaml");

        Assert.Equal(["Service default/complete"], result.Objects.Select(o => o.Ref.ToString()));
        Assert.Equal(
            [
                "missing-fields.yaml:1: error: kind: missing; every Kubernetes object needs apiVersion, kind and metadata.name",
                "missing-fields.yaml:7: error: metadata.name: missing; every Kubernetes object needs apiVersion, kind and metadata.name",
                "missing-fields.yaml:10: error: apiVersion: missing; every Kubernetes object needs apiVersion, kind and metadata.name",
                "missing-fields.yaml:17: error: metadata.name: expected a string, got 42",
            ],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Theory]
    [InlineData("- a\n- b\n", "x.yaml:1: error: expected a Kubernetes object (a mapping with apiVersion, kind and metadata), got a list")]
    [InlineData("just text\n", "x.yaml:1: error: expected a Kubernetes object (a mapping with apiVersion, kind and metadata), got \"just text\"")]
    [InlineData("apiVersion: v1\nkind: List\nitems:\n  a: 1\n", "x.yaml:3: error: items: expected a list, got a mapping")]
    [InlineData("apiVersion: v1\nkind: Service\nmetadata: web\n", "x.yaml:3: error: metadata: expected a mapping, got \"web\"")]
    [InlineData("apiVersion: v1\nkind: Service\nmetadata:\n  name: \"\"\n", "x.yaml:4: error: metadata.name: empty; every Kubernetes object needs apiVersion, kind and metadata.name")]
    public void Documents_that_are_not_objects_are_reported(string yaml, string expected)
    {
        var result = ManifestParser.Parse(yaml, "x.yaml");

        Assert.True(result.Readable);
        Assert.Empty(result.Objects);
        Assert.Equal(expected, Assert.Single(result.Diagnostics).ToString());
    }

    [Fact]
    public void Kinds_Passerelle_does_not_use_are_ignored_with_a_note()
    {
        var result = Fixtures.Parse("unknown-kind.yaml");

        Assert.True(result.Readable);
        Assert.Empty(result.Objects);
        Assert.Equal(
            [
                "unknown-kind.yaml:1: info: ConfigMap settings: ignored: Passerelle does not use v1 ConfigMap",
                "unknown-kind.yaml:8: info: Widget shop/gizmo: ignored: Passerelle does not use example.com/v1 Widget",
                "unknown-kind.yaml:16: warning: Ingress future: ignored: Passerelle reads Ingress as " +
                "networking.k8s.io/v1, networking.k8s.io/v1beta1 or extensions/v1beta1, not networking.k8s.io/v2",
                "unknown-kind.yaml:21: warning: service lowercase: ignored: kinds are case-sensitive; did you mean Service?",
            ],
            result.Diagnostics.Select(d => d.ToString()));
    }

    [Fact]
    public void A_duplicate_is_reported_and_the_first_definition_kept()
    {
        var result = Fixtures.Parse("duplicate.yaml");

        Assert.Equal(["Service default/web", "Service other/web", "Ingress default/site"], result.Objects.Select(o => o.Ref.ToString()));
        Assert.Equal(80, ((k8s.Models.V1Service)result.Objects[0].Object).Spec.Ports[0].Port);
        Assert.Equal(27, result.Objects[2].Origin!.Line);
        Assert.Equal(
            [
                "duplicate.yaml:9: error: Service default/web: already defined at line 1 of this file; this definition is ignored",
                "duplicate.yaml:36: error: Ingress default/site: already defined at line 27 of this file; this definition is ignored",
            ],
            result.Diagnostics.Select(d => d.ToString()));
    }
}
