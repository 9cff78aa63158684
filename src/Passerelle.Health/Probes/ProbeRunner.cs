using Passerelle.Model.Health;

namespace Passerelle.Health.Probes;

/// <summary>
/// Runs the probe a mode calls for. In auto mode the plain HTTP probe goes first, as on Application Gateway;
/// when it gets the answer a WebSocket-only endpoint gives, a WebSocket handshake decides, and once that is the
/// probe that works it is the only one sent, so a steady state costs one request per interval.
/// </summary>
internal sealed class ProbeRunner : IDisposable
{
    private readonly HttpProbe _http = new();
    private readonly WebSocketProbe _webSocket = new();

    /// <returns>The deciding result, and the plain HTTP result when one was sent.</returns>
    public async Task<(ProbeResult Result, ProbeResult? Http)> RunAsync(EndpointHealth health, CancellationToken cancellationToken)
    {
        var endpoint = health.Endpoint;
        var probe = health.Probe;
        switch (health.Mode)
        {
            case ProbeMode.Tcp:
                return (await TcpProbe.RunAsync(endpoint, probe, cancellationToken), null);

            case ProbeMode.WebSocket:
                return (await _webSocket.RunAsync(endpoint, probe, cancellationToken), null);

            case ProbeMode.Http or ProbeMode.AppGateway:
                var plain = await _http.RunAsync(endpoint, probe, cancellationToken);
                return (plain, plain);
        }

        if (health.PrefersWebSocket)
        {
            var again = await _webSocket.RunAsync(endpoint, probe, cancellationToken);
            if (again.Healthy)
            {
                return (again, null);
            }

            // The handshake stopped working: look at the whole picture again.
            health.PrefersWebSocket = false;
        }

        var http = await _http.RunAsync(endpoint, probe, cancellationToken);
        if (http.Healthy || !http.LooksLikeWebSocketOnly)
        {
            return (http, http);
        }

        var handshake = await _webSocket.RunAsync(endpoint, probe, cancellationToken);
        if (handshake.Healthy)
        {
            health.PrefersWebSocket = true;
            return (handshake with { Description = $"{http.Description}, {handshake.Description}" }, http);
        }

        return (http with { Description = $"{http.Description}, {handshake.Description}" }, http);
    }

    public void Dispose()
    {
        _http.Dispose();
        _webSocket.Dispose();
    }
}
