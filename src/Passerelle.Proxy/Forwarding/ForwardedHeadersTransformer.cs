using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Yarp.ReverseProxy.Forwarder;

namespace Passerelle.Proxy.Forwarding;

/// <summary>
/// Adds the headers Application Gateway adds to every request it forwards, and keeps the client's Host so that
/// backends see the name users asked for. Application Gateway writes <c>X-Forwarded-For</c> as a comma-separated
/// list of <c>IP:port</c>, appending the client to any list already present; the other headers are set, never
/// trusted from the client.
/// </summary>
internal sealed class ForwardedHeadersTransformer : HttpTransformer
{
    public static readonly ForwardedHeadersTransformer Instance = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);

        var request = httpContext.Request;
        var connection = httpContext.Connection;
        var headers = proxyRequest.Headers;
        headers.Host = request.Host.Value;

        var client = connection.RemoteIpAddress is { } ip ? FormatEndpoint(ip, connection.RemotePort) : null;
        if (client is not null)
        {
            var existing = request.Headers["X-Forwarded-For"].ToString();
            headers.Remove("X-Forwarded-For");
            headers.TryAddWithoutValidation("X-Forwarded-For", existing.Length == 0 ? client : $"{existing}, {client}");
        }

        Set(headers, "X-Forwarded-Proto", request.Scheme);
        Set(headers, "X-Forwarded-Port", connection.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Set(headers, "X-Original-Host", request.Host.Value);
        Set(headers, "X-Original-URL", request.GetEncodedPathAndQuery());
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
