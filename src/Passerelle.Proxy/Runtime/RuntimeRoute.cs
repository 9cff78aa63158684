using Passerelle.Model;
using Passerelle.Proxy.Forwarding;
using Yarp.ReverseProxy.Forwarder;

namespace Passerelle.Proxy.Runtime;

/// <summary>A route ready for the forwarder: its pool and the request settings for plain and upgraded requests.</summary>
internal sealed class RuntimeRoute
{
    public RuntimeRoute(RouteRule rule, BackendPoolRuntime pool, GatewayOptions options)
    {
        Rule = rule;
        Pool = pool;
        HttpRequest = new ForwarderRequestConfig
        {
            ActivityTimeout = rule.Settings.RequestTimeout ?? options.RequestTimeout,
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };

        // YARP's activity timeout resets on every read and write of an upgraded connection (WebSocket pings
        // included), so here it is an idle timeout: a long-lived WebSocket is never cut by the request timeout.
        UpgradeRequest = HttpRequest with { ActivityTimeout = rule.Settings.WebSocketIdleTimeout ?? options.WebSocketIdleTimeout };
        Transformer = new BackendRequestTransformer(rule);
        UsesHttps = rule.Settings.BackendProtocol == "https";
    }

    public HttpTransformer Transformer { get; }

    /// <summary>AGIC's backend-protocol https: the backend is reached over TLS.</summary>
    public bool UsesHttps { get; }

    public RouteRule Rule { get; }

    public BackendPoolRuntime Pool { get; }

    public ForwarderRequestConfig HttpRequest { get; }

    public ForwarderRequestConfig UpgradeRequest { get; }
}
