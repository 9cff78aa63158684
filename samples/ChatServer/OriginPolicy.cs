using Microsoft.Extensions.Options;

namespace ChatServer;

/// <summary>
/// Decides whether a browser page may open a socket, as gorilla/websocket's default CheckOrigin does:
/// browsers send cookies with WebSocket handshakes, so without this check any site could chat in the
/// user's name (cross-site WebSocket hijacking, RFC 6455 §10.2).
/// </summary>
internal sealed class OriginPolicy
{
    private readonly bool _anyOrigin;
    private readonly HashSet<string> _allowed = new(StringComparer.OrdinalIgnoreCase);

    public OriginPolicy(IOptions<ChatServerOptions> options)
    {
        foreach (var origin in options.Value.AllowedOrigins)
        {
            if (origin == "*")
            {
                _anyOrigin = true;
            }
            else if (TryParseOrigin(origin, out var uri))
            {
                _allowed.Add(Key(uri));
            }
        }
    }

    public bool IsAllowed(HttpRequest request)
    {
        var origin = request.Headers.Origin;
        if (origin.Count == 0)
        {
            // Only browsers are obliged to send Origin, and only browsers can be tricked into connecting.
            return true;
        }
        if (origin.Count > 1 || !TryParseOrigin(origin.ToString(), out var uri))
        {
            // Includes the opaque origin "null" sent by sandboxed frames and file: pages.
            return false;
        }
        return _anyOrigin || _allowed.Contains(Key(uri)) || IsSameOrigin(uri, request.Host);
    }

    /// <summary>Accepts what a browser sends as Origin: an http(s) scheme and an authority, nothing else.</summary>
    public static bool TryParseOrigin(string value, out Uri origin)
    {
        origin = null!;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.UserInfo.Length != 0
            || uri.Query.Length != 0
            || uri.Fragment.Length != 0
            || uri.AbsolutePath != "/")
        {
            return false;
        }
        origin = uri;
        return true;
    }

    // The Host header usually omits the port the Origin's scheme implies ("localhost" for "http://localhost"),
    // and a gateway terminating TLS forwards an https page's Host to a plain-http replica, so the default
    // port is taken from the Origin's scheme rather than from the request's.
    private static bool IsSameOrigin(Uri origin, HostString host) =>
        host.HasValue
        && string.Equals(origin.Host, host.Host, StringComparison.OrdinalIgnoreCase)
        && origin.Port == (host.Port ?? (origin.Scheme == Uri.UriSchemeHttps ? 443 : 80));

    private static string Key(Uri origin) => $"{origin.Scheme}://{origin.Host}:{origin.Port}";
}
