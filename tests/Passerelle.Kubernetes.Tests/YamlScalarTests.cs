using Passerelle.Kubernetes.Manifests;
using YamlDotNet.RepresentationModel;

namespace Passerelle.Kubernetes.Tests;

public class YamlScalarTests
{
    [Theory]
    [InlineData("", "null")]
    [InlineData("~", "null")]
    [InlineData("null", "null")]
    [InlineData("NULL", "null")]
    [InlineData("true", "true")]
    [InlineData("True", "true")]
    [InlineData("FALSE", "false")]
    [InlineData("80", "80")]
    [InlineData("-12", "-12")]
    [InlineData("+5", "5")]
    [InlineData("0644", "420")]
    [InlineData("0o17", "15")]
    [InlineData("0x1F", "31")]
    [InlineData("08", "8")]
    [InlineData("1.5", "1.5")]
    [InlineData(".5", "0.5")]
    [InlineData("1e3", "1000")]
    [InlineData("99999999999999999999", "1E+20")]
    public void Plain_scalars_resolve_to_json_values(string text, string json)
    {
        Assert.True(YamlScalar.TryResolve(text, out var value));
        Assert.Equal(json, value?.ToJsonString() ?? "null");
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("no")]
    [InlineData("on")]
    [InlineData("off")]
    [InlineData("y")]
    [InlineData(".inf")]
    [InlineData(".nan")]
    [InlineData("1.2.3")]
    [InlineData("1_000")]
    [InlineData("0x")]
    [InlineData("-")]
    [InlineData("v1")]
    public void Other_plain_scalars_stay_strings(string text)
    {
        Assert.False(YamlScalar.TryResolve(text, out _));
    }

    [Theory]
    [InlineData("a: '80'", "\"80\"")]
    [InlineData("a: \"true\"", "\"true\"")]
    [InlineData("a: !!str 80", "\"80\"")]
    [InlineData("a: !!int 80", "80")]
    [InlineData("a: ! 80", "\"80\"")]
    [InlineData("a: |\n  80\n", "\"80\\n\"")]
    [InlineData("a: 80", "80")]
    public void Quoting_and_tags_decide_before_the_text(string yaml, string json)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var scalar = (YamlScalarNode)((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("a")];

        Assert.Equal(json, YamlScalar.ToJson(scalar)?.ToJsonString());
    }
}
