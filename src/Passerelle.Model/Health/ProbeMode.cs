namespace Passerelle.Model.Health;

/// <summary>How the gateway decides that an endpoint is healthy. See docs/health-probes.md.</summary>
public enum ProbeMode
{
    /// <summary>
    /// The HTTP probe; when its answer is the kind a WebSocket-only endpoint gives (400, 404, 405, 426), a real
    /// WebSocket handshake on the same host and path decides instead. The default.
    /// </summary>
    Auto,

    /// <summary>The HTTP probe alone.</summary>
    Http,

    /// <summary>A WebSocket handshake (RFC 6455 §4.1) followed by a Close frame.</summary>
    WebSocket,

    /// <summary>A TCP connection to the probe port.</summary>
    Tcp,

    /// <summary>
    /// Exactly what Application Gateway does: the HTTP probe alone, healthy only on the configured status codes.
    /// A WebSocket server without a plain-GET health endpoint is marked unhealthy and gets no traffic.
    /// </summary>
    AppGateway,
}

public static class ProbeModes
{
    public static string Name(ProbeMode mode) => mode switch
    {
        ProbeMode.Auto => "auto",
        ProbeMode.Http => "http",
        ProbeMode.WebSocket => "websocket",
        ProbeMode.Tcp => "tcp",
        _ => "appgw",
    };

    public static bool TryParse(string? text, out ProbeMode mode)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "auto":
                mode = ProbeMode.Auto;
                return true;
            case "http":
                mode = ProbeMode.Http;
                return true;
            case "websocket" or "ws":
                mode = ProbeMode.WebSocket;
                return true;
            case "tcp":
                mode = ProbeMode.Tcp;
                return true;
            case "appgw" or "application-gateway":
                mode = ProbeMode.AppGateway;
                return true;
            default:
                mode = default;
                return false;
        }
    }
}
