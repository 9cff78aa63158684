using Passerelle.Model.Health;

namespace Passerelle.Health;

/// <summary>
/// The outcome of one probe, worded the way a user checks it by hand: <c>GET http://ws.contoso.com/ws -> 400</c>.
/// </summary>
public sealed record ProbeResult(bool Healthy, ProbeMode Kind, string Description, TimeSpan Latency, DateTimeOffset At)
{
    /// <summary>Status code of an HTTP probe or of a refused WebSocket handshake, when there was one.</summary>
    public int? StatusCode { get; init; }

    /// <summary>True for the answers a WebSocket-only endpoint gives to a plain GET (RFC 6455 servers, gorilla, websocketd).</summary>
    public bool LooksLikeWebSocketOnly => StatusCode is 400 or 404 or 405 or 426;
}
