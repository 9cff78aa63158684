using Passerelle.Model;
using Passerelle.Model.Objects;
using Passerelle.Proxy.Routing;

namespace Passerelle.Proxy.Tests;

/// <summary>The Kubernetes Ingress matching rules (and AGIC's for ImplementationSpecific), one row per case.</summary>
public sealed class RouteTableTests
{
    private static readonly RouteTable<string> Table = new(
    [
        Rule("ws.contoso.com", "/", PathMatch.Any, "ws-any"),
        Rule("ws.contoso.com", "/chat", PathMatch.Exact, "ws-chat-exact"),
        Rule("ws.contoso.com", "/chat", PathMatch.Prefix, "ws-chat-prefix"),
        Rule("ws.contoso.com", "/chat/rooms", PathMatch.Prefix, "ws-rooms-prefix"),
        Rule("ws.contoso.com", "/static", PathMatch.StringPrefix, "ws-static-string"),
        Rule("*.contoso.com", "/api", PathMatch.Prefix, "wild-api"),
        Rule("", "/", PathMatch.Any, "any-host"),
        Rule("exact.only", "/only", PathMatch.Exact, "exact-only"),
    ], "default-backend");

    [Theory]
    // Exact beats a Prefix of the same path; Prefix matches whole path elements only.
    [InlineData("ws.contoso.com", "/chat", "ws-chat-exact")]
    [InlineData("ws.contoso.com", "/chat/", "ws-chat-prefix")]
    [InlineData("ws.contoso.com", "/chat/lobby", "ws-chat-prefix")]
    [InlineData("ws.contoso.com", "/chatter", "ws-any")]
    [InlineData("ws.contoso.com", "/Chat", "ws-any")]
    // The longest matching prefix wins.
    [InlineData("ws.contoso.com", "/chat/rooms", "ws-rooms-prefix")]
    [InlineData("ws.contoso.com", "/chat/rooms/1", "ws-rooms-prefix")]
    [InlineData("ws.contoso.com", "/chat/roomsx", "ws-chat-prefix")]
    // AGIC's "/static*" is a plain string prefix.
    [InlineData("ws.contoso.com", "/staticfiles/a.js", "ws-static-string")]
    [InlineData("ws.contoso.com", "/stati", "ws-any")]
    // Host names are case-insensitive, a port or a final dot is not part of the name.
    [InlineData("WS.Contoso.COM", "/chat", "ws-chat-exact")]
    [InlineData("ws.contoso.com.", "/chat", "ws-chat-exact")]
    // A wildcard covers exactly one label.
    [InlineData("shop.contoso.com", "/api/v1", "wild-api")]
    [InlineData("a.shop.contoso.com", "/api", "any-host")]
    [InlineData("contoso.com", "/api", "any-host")]
    // A host with rules does not fall through to other hosts' rules: no match there means the default backend.
    [InlineData("shop.contoso.com", "/other", "default-backend")]
    [InlineData("exact.only", "/elsewhere", "default-backend")]
    [InlineData("unknown.example", "/anything", "any-host")]
    public void MatchesLikeKubernetes(string host, string path, string expected) =>
        Assert.Equal(expected, Table.Match(host, path));

    [Fact]
    public void WithoutDefaultBackendAnUnmatchedRequestHasNoRoute()
    {
        var table = new RouteTable<string>([Rule("ws.contoso.com", "/ws", PathMatch.Exact, "ws")], null);
        Assert.Equal("ws", table.Match("ws.contoso.com", "/ws"));
        Assert.Null(table.Match("ws.contoso.com", "/"));
        Assert.Null(table.Match("other.contoso.com", "/ws"));
    }

    private static (RouteRule, string) Rule(string host, string path, PathMatch match, string name) =>
        (new RouteRule(host, path, match, "pool", RouteSettings.Default, new ObjectRef("Ingress", "default", "test"), "spec"), name);
}
