using Passerelle.Model;
using Passerelle.Model.Objects;
using Passerelle.Proxy.Forwarding;

namespace Passerelle.Proxy.Tests;

/// <summary>AGIC's backend-path-prefix: the part of the path the rule matched is replaced by the prefix.</summary>
public sealed class BackendPathPrefixTests
{
    [Theory]
    [InlineData(PathMatch.StringPrefix, "/hello/", "/test/", "/hello/world", "/test/world")]
    [InlineData(PathMatch.Prefix, "/hello", "/test/", "/hello/world", "/test/world")]
    [InlineData(PathMatch.Prefix, "/hello", "/test", "/hello/world", "/test/world")]
    [InlineData(PathMatch.Prefix, "/hello", "/test/", "/hello", "/test/")]
    [InlineData(PathMatch.Any, "/", "/api/", "/users/1", "/api/users/1")]
    [InlineData(PathMatch.Any, "/", "/api/", "/", "/api/")]
    [InlineData(PathMatch.Exact, "/login", "/auth/login", "/login", "/auth/login")]
    public void ReplacesTheMatchedPart(PathMatch match, string rulePath, string prefix, string path, string expected)
    {
        var rule = new RouteRule("", rulePath, match, "pool", RouteSettings.Default with { BackendPathPrefix = prefix },
            new ObjectRef("Ingress", "default", "test"), "spec");
        Assert.Equal(expected, BackendRequestTransformer.RewritePath(rule, prefix, path));
    }
}
