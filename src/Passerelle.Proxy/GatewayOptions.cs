using System.Net;
using Passerelle.Health;

namespace Passerelle.Proxy;

/// <summary>
/// Gateway-wide settings. Defaults follow Application Gateway where it has one, and are documented in
/// docs/configuration.md. <see cref="Validate"/> runs at start-up so a bad value stops the gateway with a message
/// a user can act on instead of failing later.
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>Address of the traffic listener. Default: all IPv4 addresses, as Application Gateway's frontend.</summary>
    public IPAddress ListenAddress { get; set; } = IPAddress.Any;

    /// <summary>Port of the traffic listener (HTTP/1.1, HTTP/2 prior knowledge and WebSocket). Default 80.</summary>
    public int HttpPort { get; set; } = 80;

    /// <summary>Address of the admin listener (<c>/healthz</c>, <c>/readyz</c>). Default loopback only.</summary>
    public IPAddress AdminAddress { get; set; } = IPAddress.Loopback;

    /// <summary>Port of the admin listener. Default 9901; 0 picks a free port.</summary>
    public int AdminPort { get; set; } = 9901;

    /// <summary>
    /// How long a backend may stay silent while answering an HTTP request. Application Gateway's default request
    /// timeout is 30 s; annotation <c>appgw.ingress.kubernetes.io/request-timeout</c> overrides it per Ingress.
    /// It never applies to upgraded (WebSocket) connections.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an upgraded connection may carry no data in either direction before the gateway closes it.
    /// Default one hour; annotation <c>passerelle.io/websocket-idle-timeout</c> overrides it per Ingress.
    /// </summary>
    public TimeSpan WebSocketIdleTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long to wait for a TCP connection to a backend before trying another endpoint. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many endpoints one request may try when an endpoint fails before anything reached the client.
    /// Default 3.
    /// </summary>
    public int MaxConnectAttempts { get; set; } = 3;

    /// <summary>
    /// How long WebSockets to an endpoint that left its Service (removed, not ready, terminating) may continue
    /// before the gateway closes them politely (Close 1001 to the client and the backend). Default 30 s, the
    /// Kubernetes default termination grace period; AGIC's connection-draining annotations override it per Ingress.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The window over which the gateway spreads the Close frames of many WebSockets (at a drain's end, or at
    /// shutdown), so that their clients do not all reconnect in the same instant. Default 5 s.
    /// </summary>
    public TimeSpan CloseSpread { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// On SIGTERM, how long the gateway takes at most to stop: /readyz answers 503, new connections are refused,
    /// open WebSockets get Close 1001 spread over half this time, in-flight HTTP requests finish. Default 15 s.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Health probing: the default probe mode and probing limits.</summary>
    public HealthOptions Health { get; set; } = new();

    /// <summary>Returns the problems with these options, empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (HttpPort is < 0 or > 65535)
        {
            errors.Add($"--http-port {HttpPort} is not a TCP port (0-65535)");
        }

        if (AdminPort is < 0 or > 65535)
        {
            errors.Add($"--admin-port {AdminPort} is not a TCP port (0-65535)");
        }

        if (HttpPort != 0 && HttpPort == AdminPort)
        {
            errors.Add($"--http-port and --admin-port are both {HttpPort}; the admin listener needs its own port");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add("--request-timeout must be positive");
        }

        if (WebSocketIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add("--websocket-idle-timeout must be positive");
        }

        if (ConnectTimeout <= TimeSpan.Zero)
        {
            errors.Add("--connect-timeout must be positive");
        }

        if (DrainTimeout < TimeSpan.Zero)
        {
            errors.Add("--drain-timeout must not be negative");
        }

        if (CloseSpread < TimeSpan.Zero)
        {
            errors.Add("--close-spread must not be negative");
        }

        if (ShutdownTimeout <= TimeSpan.Zero)
        {
            errors.Add("--shutdown-timeout must be positive");
        }

        if (MaxConnectAttempts < 1)
        {
            errors.Add("--max-connect-attempts must be at least 1");
        }

        errors.AddRange(Health.Validate());
        return errors;
    }
}
