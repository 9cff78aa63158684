namespace Passerelle.Model.Translation;

/// <summary>
/// Annotation names the translator reads. The <c>appgw.ingress.kubernetes.io/</c> ones keep AGIC's names and
/// meanings so that existing manifests work unchanged; <c>passerelle.io/</c> ones are Passerelle's own.
/// Every name here is documented in docs/annotations.md.
/// </summary>
public static class Annotations
{
    public const string IngressClass = "kubernetes.io/ingress.class";
    public const string IsDefaultClass = "ingressclass.kubernetes.io/is-default-class";

    /// <summary>AGIC: seconds the gateway waits for a backend response (Application Gateway's request timeout).</summary>
    public const string RequestTimeout = "appgw.ingress.kubernetes.io/request-timeout";

    /// <summary>AGIC: <c>"true"</c> drains connections to removed endpoints instead of cutting them.</summary>
    public const string ConnectionDraining = "appgw.ingress.kubernetes.io/connection-draining";

    /// <summary>AGIC: seconds the connections of a removed endpoint may continue (default 30).</summary>
    public const string ConnectionDrainingTimeout = "appgw.ingress.kubernetes.io/connection-draining-timeout";

    /// <summary>How long an upgraded (WebSocket) connection may stay idle in both directions before it is closed.</summary>
    public const string WebSocketIdleTimeout = "passerelle.io/websocket-idle-timeout";

    // Health probe derivation (docs/health-probes.md, "Probe derivation"). AGIC's names and meanings.

    /// <summary>AGIC: the path prefix the backend is reached on; the probe's path when the pod has no httpGet probe.</summary>
    public const string BackendPathPrefix = "appgw.ingress.kubernetes.io/backend-path-prefix";

    /// <summary>AGIC: the Host header the backend expects; the probe's host when no later rule sets one.</summary>
    public const string BackendHostname = "appgw.ingress.kubernetes.io/backend-hostname";

    /// <summary>AGIC: <c>http</c> or <c>https</c> to the backend; the probe uses the same scheme.</summary>
    public const string BackendProtocol = "appgw.ingress.kubernetes.io/backend-protocol";

    /// <summary>AGIC: the probe's Host header.</summary>
    public const string HealthProbeHostname = "appgw.ingress.kubernetes.io/health-probe-hostname";

    /// <summary>AGIC: the port probed on each endpoint, 1-65535.</summary>
    public const string HealthProbePort = "appgw.ingress.kubernetes.io/health-probe-port";

    /// <summary>AGIC: the probe's path, starting with "/".</summary>
    public const string HealthProbePath = "appgw.ingress.kubernetes.io/health-probe-path";

    /// <summary>AGIC: the healthy status codes, such as <c>"200-399, 401"</c>.</summary>
    public const string HealthProbeStatusCodes = "appgw.ingress.kubernetes.io/health-probe-status-codes";

    /// <summary>AGIC: seconds between probes, 1-86400.</summary>
    public const string HealthProbeInterval = "appgw.ingress.kubernetes.io/health-probe-interval";

    /// <summary>AGIC: seconds a probe may take, 1-86400.</summary>
    public const string HealthProbeTimeout = "appgw.ingress.kubernetes.io/health-probe-timeout";

    /// <summary>AGIC: consecutive failed probes before an endpoint is unhealthy, 1-20.</summary>
    public const string HealthProbeUnhealthyThreshold = "appgw.ingress.kubernetes.io/health-probe-unhealthy-threshold";

    /// <summary>How the gateway judges an endpoint healthy: <c>auto</c>, <c>http</c>, <c>websocket</c>, <c>tcp</c> or <c>appgw</c>.</summary>
    public const string HealthProbeMode = "passerelle.io/health-probe-mode";
}

/// <summary>The ingress classes and controllers Passerelle answers for.</summary>
public static class IngressClasses
{
    /// <summary>AGIC's class: Passerelle is a drop-in replacement for Application Gateway's ingress controller.</summary>
    public const string ApplicationGateway = "azure/application-gateway";

    public const string Passerelle = "passerelle";

    /// <summary>The <c>spec.controller</c> of Passerelle's own IngressClass.</summary>
    public const string PasserelleController = "passerelle.io/ingress-controller";

    /// <summary>The IngressClass name AGIC's Helm chart installs.</summary>
    public const string ApplicationGatewayClassName = "azure-application-gateway";
}
