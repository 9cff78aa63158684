using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Passerelle.Model;
using Yarp.ReverseProxy.Forwarder;

namespace Passerelle.Proxy.Forwarding;

/// <summary>
/// Shapes the request a backend receives, one instance per route. It adds the headers Application Gateway adds
/// (<c>X-Forwarded-For</c> as a comma-separated list of <c>IP:port</c>, appending the client; the others set,
/// never trusted from the client), keeps the client's Host unless the route sets AGIC's
/// <c>backend-hostname</c>, and applies <c>backend-path-prefix</c> by replacing the part of the path the rule
/// matched.
/// </summary>
internal sealed class BackendRequestTransformer(RouteRule rule) : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var request = httpContext.Request;
        var headers = proxyRequest.Headers;
        headers.Host = BackendHost(rule, request);
        if (ForwardedFor(httpContext) is { } forwardedFor)
        {
            headers.Remove("X-Forwarded-For");
            headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        Set(headers, "X-Forwarded-Proto", request.Scheme);
        Set(headers, "X-Forwarded-Port", ForwardedPort(httpContext));
        Set(headers, "X-Original-Host", request.Host.Value);
        Set(headers, "X-Original-URL", request.GetEncodedPathAndQuery());

        if (rule.Settings.BackendPathPrefix is { } prefix)
        {
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix,
                new PathString(RewritePath(rule, prefix, request.Path.Value ?? "/")), request.QueryString);
        }
    }

    /// <summary>The Host the backend receives: the client's, unless the route sets AGIC's backend-hostname.</summary>
    internal static string BackendHost(RouteRule rule, HttpRequest request) => rule.Settings.BackendHostname ?? request.Host.Value ?? "";

    /// <summary>The request target the backend receives: the path (rewritten by backend-path-prefix) and query, encoded.</summary>
    internal static string BackendTarget(RouteRule rule, HttpRequest request)
    {
        var path = request.Path;
        if (rule.Settings.BackendPathPrefix is { } prefix)
        {
            path = new PathString(RewritePath(rule, prefix, path.Value ?? "/"));
        }

        var encoded = path.HasValue ? path.ToUriComponent() : "/";
        return request.QueryString.HasValue ? encoded + request.QueryString.ToUriComponent() : encoded;
    }

    /// <summary>The client's X-Forwarded-For with the client's <c>IP:port</c> appended; null when the client address is unknown.</summary>
    internal static string? ForwardedFor(HttpContext context)
    {
        var connection = context.Connection;
        if (connection.RemoteIpAddress is not { } ip)
        {
            return null;
        }

        var client = FormatEndpoint(ip, connection.RemotePort);
        var existing = context.Request.Headers["X-Forwarded-For"].ToString();
        return existing.Length == 0 ? client : $"{existing}, {client}";
    }

    internal static string ForwardedPort(HttpContext context) => context.Connection.LocalPort.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// AGIC's backend-path-prefix: the matched part of the path is replaced by the prefix, so a rule
    /// <c>/hello/*</c> with prefix <c>/test/</c> sends <c>/hello/world</c> as <c>/test/world</c>.
    /// </summary>
    internal static string RewritePath(RouteRule rule, string prefix, string path)
    {
        var matched = rule.Match switch
        {
            PathMatch.Exact => path.Length,
            PathMatch.Any => 1,
            _ => rule.Path.Length,
        };
        var rest = path.Length > matched ? path[matched..] : "";
        if (rest.Length == 0)
        {
            return prefix;
        }

        return prefix.EndsWith('/') ? prefix + rest.TrimStart('/') : prefix + (rest.StartsWith('/') ? rest : "/" + rest);
    }

    private static void Set(System.Net.Http.Headers.HttpRequestHeaders headers, string name, string? value)
    {
        headers.Remove(name);
        if (!string.IsNullOrEmpty(value))
        {
            headers.TryAddWithoutValidation(name, value);
        }
    }

    private static string FormatEndpoint(IPAddress ip, int port)
    {
        if (ip.IsIPv4MappedToIPv6)
        {
            ip = ip.MapToIPv4();
        }

        return new IPEndPoint(ip, port).ToString();
    }
}
