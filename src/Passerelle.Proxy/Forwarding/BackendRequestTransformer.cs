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
        var connection = httpContext.Connection;
        var headers = proxyRequest.Headers;
        headers.Host = rule.Settings.BackendHostname ?? request.Host.Value;

        var client = connection.RemoteIpAddress is { } ip ? FormatEndpoint(ip, connection.RemotePort) : null;
        if (client is not null)
        {
            var existing = request.Headers["X-Forwarded-For"].ToString();
            headers.Remove("X-Forwarded-For");
            headers.TryAddWithoutValidation("X-Forwarded-For", existing.Length == 0 ? client : $"{existing}, {client}");
        }

        Set(headers, "X-Forwarded-Proto", request.Scheme);
        Set(headers, "X-Forwarded-Port", connection.LocalPort.ToString(CultureInfo.InvariantCulture));
        Set(headers, "X-Original-Host", request.Host.Value);
        Set(headers, "X-Original-URL", request.GetEncodedPathAndQuery());

        if (rule.Settings.BackendPathPrefix is { } prefix)
        {
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix,
                new PathString(RewritePath(rule, prefix, request.Path.Value ?? "/")), request.QueryString);
        }
    }

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
