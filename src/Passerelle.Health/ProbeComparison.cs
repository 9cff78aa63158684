using Passerelle.Health.Probes;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health;

/// <summary>
/// One endpoint probed twice, once as Application Gateway with AGIC would (the plain HTTP probe) and once as
/// Passerelle will (the backend's probe mode), with the fix to apply when the two disagree. For
/// <c>passerelle doctor</c>.
/// </summary>
public sealed record ProbeComparison(BackendEndpoint Endpoint, ProbeResult ApplicationGateway, ProbeResult Passerelle, ProbeMode Mode)
{
    public static async Task<ProbeComparison> RunAsync(BackendPool pool, BackendEndpoint endpoint, ProbeMode defaultMode, CancellationToken cancellationToken)
    {
        using var runner = new ProbeRunner();
        var mode = pool.Probe.Mode ?? defaultMode;
        var appGateway = new EndpointHealth(endpoint, pool.Probe, ProbeMode.AppGateway, pool.Service.ToString());
        var passerelle = new EndpointHealth(endpoint, pool.Probe, mode, pool.Service.ToString());
        var (appGatewayResult, _) = await runner.RunAsync(appGateway, cancellationToken);
        var (passerelleResult, _) = await runner.RunAsync(passerelle, cancellationToken);
        return new ProbeComparison(endpoint, appGatewayResult, passerelleResult, mode);
    }

    /// <summary>What to change so that Application Gateway too finds the endpoint healthy; null when it does.</summary>
    public string? Fix(ProbeSpec probe)
    {
        if (ApplicationGateway.Healthy)
        {
            return null;
        }

        if (ApplicationGateway.LooksLikeWebSocketOnly && Passerelle is { Healthy: true, Kind: ProbeMode.WebSocket })
        {
            return $"a WebSocket server that answers a plain GET {probe.Path} with {ApplicationGateway.StatusCode}. " +
                "Give the pod template a readinessProbe (httpGet on a path that answers 200, such as /health), or set the Ingress " +
                "annotation appgw.ingress.kubernetes.io/health-probe-path to such a path.";
        }

        if (ApplicationGateway.StatusCode is { } status)
        {
            return $"GET {probe.Path} with Host {probe.Host} answers {status}, outside {probe.HealthyStatuses}. Point the probe at a path " +
                "that answers 200 (readinessProbe httpGet, or appgw.ingress.kubernetes.io/health-probe-path), or accept that status " +
                "with appgw.ingress.kubernetes.io/health-probe-status-codes.";
        }

        return $"nothing answered the probe on {Endpoint} ({ApplicationGateway.Description}): check that the pod runs and listens on " +
            "the Service's targetPort.";
    }
}
