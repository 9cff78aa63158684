using System.Text.Json.Nodes;
using Passerelle.Kubernetes.Manifests;

namespace Passerelle.Kubernetes.Tests;

public class FieldPathTests
{
    [Theory]
    [InlineData("$.spec.ports[0].port", "spec.ports[0].port")]
    [InlineData("$.spec.rules[12].http.paths[3]", "spec.rules[12].http.paths[3]")]
    [InlineData("$.metadata.annotations['kubernetes.io/ingress.class']", "metadata.annotations[kubernetes.io/ingress.class]")]
    [InlineData("$['odd name'].x", "[odd name].x")]
    [InlineData("$", "")]
    public void System_Text_Json_paths_become_field_paths(string jsonPath, string fieldPath)
    {
        Assert.Equal(fieldPath, FieldPath.FromJsonPath(jsonPath));
    }

    [Fact]
    public void Names_with_dots_or_slashes_are_bracketed_as_the_translator_writes_them()
    {
        Assert.Equal("metadata.annotations[passerelle.io/request-timeout]",
            FieldPath.Property(FieldPath.Property("metadata", "annotations"), "passerelle.io/request-timeout"));
        Assert.Equal("spec.rules[0].host", FieldPath.Property(FieldPath.Item(FieldPath.Property("spec", "rules"), 0), "host"));
    }

    [Fact]
    public void Find_follows_a_path_into_a_json_tree()
    {
        var root = JsonNode.Parse("""{"spec":{"ports":[{"port":80},{"port":"abc"}]}}""")!;

        Assert.Equal("\"abc\"", FieldPath.Find(root, FieldPath.ParseJsonPath("$.spec.ports[1].port"))!.ToJsonString());
        Assert.Null(FieldPath.Find(root, FieldPath.ParseJsonPath("$.spec.ports[2]")));
    }
}
