using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Passerelle.Health;
using Passerelle.Proxy.Forwarding;
using Passerelle.Proxy.Listeners;
using Passerelle.Proxy.Runtime;
using Passerelle.Proxy.Tunnels;

namespace Passerelle.Proxy;

/// <summary>The data plane's whole public surface: its services, its listener, and its request handler.</summary>
public static class DataPlane
{
    /// <summary>
    /// Registers the health monitor, the snapshot holder, the backend client, the forwarder and the registry of
    /// proxied WebSockets (<see cref="UpgradedConnections"/>).
    /// </summary>
    public static IServiceCollection AddPasserelleDataPlane(this IServiceCollection services, GatewayOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(options.Health);
        services.AddSingleton<HealthMonitor>();
        services.AddSingleton<SnapshotHolder>();
        services.AddSingleton<BackendClient>();
        services.AddSingleton<UpgradedConnections>();
        services.AddSingleton<Splice.WebSocketSplice>();
        services.AddSingleton<GatewayForwarder>();
        services.AddHttpForwarder();
        return services;
    }

    /// <summary>
    /// Binds the traffic listener on <see cref="GatewayOptions.ListenAddress"/>:<see cref="GatewayOptions.HttpPort"/>
    /// with HTTP/1.1 and HTTP/2 prior knowledge on the same port. HTTP/2 connections are served by a private
    /// HTTP/2-only endpoint bound on the Unix socket <paramref name="http2SocketPath"/>.
    /// </summary>
    /// <returns>The traffic endpoint, whose bound port is known once the server has started.</returns>
    public static ListenOptions ListenForTraffic(this KestrelServerOptions kestrel, GatewayOptions options, string http2SocketPath)
    {
        var http2 = new Http2PriorKnowledge(kestrel.Limits.RequestHeadersTimeout);
        ListenOptions? traffic = null;

        // The HTTP/2 endpoint is bound first so that its handler exists before traffic arrives.
        kestrel.ListenUnixSocket(http2SocketPath, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            http2.CaptureHandlerOf(l);
        });
        kestrel.Listen(new FrontDoor.TrafficEndPoint(options.ListenAddress, options.HttpPort), l =>
        {
            l.Protocols = HttpProtocols.Http1;
            http2.DetectOn(l);
            Splice.ClientTransport.ExposeOn(l);
            traffic = l;
        });
        return traffic!;
    }

    /// <summary>The terminal handler that routes and forwards every traffic request.</summary>
    public static RequestDelegate GatewayRequestHandler(this IServiceProvider services) =>
        services.GetRequiredService<GatewayForwarder>().InvokeAsync;
}
