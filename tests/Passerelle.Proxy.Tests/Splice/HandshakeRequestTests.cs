using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Passerelle.Model;
using Passerelle.Model.Objects;
using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>The handshake the direct path writes to a backend, from the client's request.</summary>
public sealed class HandshakeRequestTests
{
    [Fact]
    public void DropsHopByHopFieldsAndThoseTheClientsConnectionNames()
    {
        var context = Handshake("/ws", "");
        context.Request.Headers.Connection = "keep-alive, Upgrade, X-Hop";
        context.Request.Headers["X-Hop"] = "for the gateway only";
        context.Request.Headers["Keep-Alive"] = "timeout=5";
        context.Request.Headers["Proxy-Authorization"] = "Basic c2VjcmV0";
        context.Request.Headers["TE"] = "trailers";

        var head = Build(context, Rule());

        Assert.DoesNotContain("X-Hop", head);
        Assert.DoesNotContain("Keep-Alive", head);
        Assert.DoesNotContain("keep-alive", head);
        Assert.DoesNotContain("Proxy-Authorization", head);
        Assert.DoesNotContain("TE:", head);
        Assert.Contains("\r\nConnection: Upgrade\r\n", head);
        Assert.Contains("\r\nUpgrade: websocket\r\n", head);
        Assert.EndsWith("\r\n\r\n", head);
    }

    [Fact]
    public void AppliesTheBackendHostnameAndPathPrefixOfTheRoute()
    {
        var context = Handshake("/chat/room 1", "?a=b");
        var rule = Rule(RouteSettings.Default with { BackendPathPrefix = "/v2/", BackendHostname = "internal.example" }, "/chat/");

        var head = Build(context, rule);

        Assert.StartsWith("GET /v2/room%201?a=b HTTP/1.1\r\nHost: internal.example\r\n", head);
        Assert.Contains("\r\nX-Original-Host: ws.contoso.com\r\n", head);
        Assert.Contains("\r\nX-Original-URL: /chat/room%201?a=b\r\n", head);
    }

    [Fact]
    public void ReplacesTheForwardedFieldsAndAppendsTheClientToXForwardedFor()
    {
        var context = Handshake("/ws", "");
        context.Request.Headers["X-Forwarded-For"] = "10.1.2.3";
        context.Request.Headers["X-Forwarded-Proto"] = "https";
        context.Request.Headers["X-Original-Host"] = "spoofed.example";

        var head = Build(context, Rule());

        Assert.Contains("\r\nX-Forwarded-For: 10.1.2.3, 192.0.2.7:50000\r\n", head);
        Assert.Contains("\r\nX-Forwarded-Proto: http\r\n", head);
        Assert.Contains("\r\nX-Forwarded-Port: 80\r\n", head);
        Assert.DoesNotContain("spoofed", head);
        Assert.Single(head.Split("\r\n"), l => l.StartsWith("X-Forwarded-Proto:", StringComparison.Ordinal));
    }

    private static string Build(HttpContext context, RouteRule rule) => Encoding.Latin1.GetString(HandshakeRequest.Build(context, rule));

    private static DefaultHttpContext Handshake(string path, string query)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "GET";
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("ws.contoso.com");
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        context.Request.Headers.Connection = "Upgrade";
        context.Request.Headers.Upgrade = "websocket";
        context.Request.Headers["Sec-WebSocket-Key"] = "123";
        context.Request.Headers["Sec-WebSocket-Version"] = "13";
        context.Connection.RemoteIpAddress = IPAddress.Parse("192.0.2.7");
        context.Connection.RemotePort = 50000;
        context.Connection.LocalPort = 80;
        return context;
    }

    private static RouteRule Rule(RouteSettings? settings = null, string path = "/") =>
        new("", path, path == "/" ? PathMatch.Any : PathMatch.StringPrefix, "pool", settings ?? RouteSettings.Default,
            new ObjectRef("Ingress", "default", "test"), "spec");
}
