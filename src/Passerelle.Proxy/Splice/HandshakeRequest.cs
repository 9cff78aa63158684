using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Passerelle.Model;
using Passerelle.Proxy.Forwarding;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// The WebSocket handshake the backend receives on the direct path, as HTTP/1.1 bytes: the client's request with
/// the same changes the forwarder makes to every request (<see cref="BackendRequestTransformer"/>: Host,
/// Application Gateway's forwarded headers, backend-path-prefix), hop-by-hop fields dropped (RFC 9110 §7.6.1),
/// including those the client's Connection field names, and <c>Connection: Upgrade</c> restated.
/// </summary>
internal static class HandshakeRequest
{
    // Hop-by-hop, or set by the gateway itself below.
    private static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
        "HTTP2-Settings", "Content-Length", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Original-Host", "X-Original-URL",
    };

    public static byte[] Build(HttpContext context, RouteRule rule)
    {
        var request = context.Request;
        var named = ConnectionTokens(request.Headers.Connection);
        var head = HeadBuilder.Acquire();
        head.Append(request.Method).Append(' ').Append(BackendRequestTransformer.BackendTarget(rule, request)).Append(" HTTP/1.1\r\n");
        Field(head, "Host", BackendRequestTransformer.BackendHost(rule, request));
        if (request.Headers is HeaderDictionary parsed)
        {
            // The front door's: its struct enumerator, where the interface's would be boxed for every handshake.
            foreach (var (name, values) in parsed)
            {
                Forward(head, name, values, named);
            }
        }
        else
        {
            foreach (var (name, values) in request.Headers)
            {
                Forward(head, name, values, named);
            }
        }

        Field(head, "Connection", "Upgrade");
        Field(head, "Upgrade", request.Headers.Upgrade.ToString());
        Field(head, "X-Forwarded-For", BackendRequestTransformer.ForwardedFor(context));
        Field(head, "X-Forwarded-Proto", request.Scheme);
        Field(head, "X-Forwarded-Port", BackendRequestTransformer.ForwardedPort(context));
        Field(head, "X-Original-Host", request.Host.Value);
        Field(head, "X-Original-URL", request.GetEncodedPathAndQuery());
        head.Append("\r\n");

        // Kestrel or the front door accepted these values, so they hold no CR, LF or NUL.
        return HeadBuilder.ToLatin1(head);
    }

    private static void Forward(StringBuilder head, string name, Microsoft.Extensions.Primitives.StringValues values, HashSet<string>? named)
    {
        if (Dropped.Contains(name) || named?.Contains(name) == true)
        {
            return;
        }

        foreach (var value in values)
        {
            Field(head, name, value);
        }
    }

    private static void Field(StringBuilder head, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            head.Append(name).Append(": ").Append(value).Append("\r\n");
        }
    }

    /// <summary>The field names the client's Connection lists, other than "upgrade" and "keep-alive"/"close" (RFC 9110 §7.6.1).</summary>
    private static HashSet<string>? ConnectionTokens(Microsoft.Extensions.Primitives.StringValues connection)
    {
        HashSet<string>? named = null;
        foreach (var value in connection)
        {
            // The usual "Upgrade" (or "keep-alive, Upgrade") allocates nothing here.
            foreach (var range in value.AsSpan().Split(','))
            {
                var token = value.AsSpan(range).Trim();
                if (!token.IsEmpty && !token.Equals("upgrade", StringComparison.OrdinalIgnoreCase))
                {
                    (named ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(token.ToString());
                }
            }
        }

        return named;
    }
}
