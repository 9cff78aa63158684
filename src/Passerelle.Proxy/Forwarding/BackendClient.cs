using System.Diagnostics;
using System.Net;
using Passerelle.Proxy.Tunnels;

namespace Passerelle.Proxy.Forwarding;

/// <summary>
/// The one HTTP client the gateway uses to reach backends, configured as a proxy needs it: no proxy, no
/// redirects, no decompression, no cookies, and a short connect timeout so that failover to another endpoint
/// is quick. Connection pools are per endpoint inside the handler.
/// </summary>
public sealed class BackendClient : IDisposable
{
    public BackendClient(GatewayOptions options)
    {
        // TunnelHandler gives the forwarder the backend's side of a WebSocket wrapped, so the gateway can close it.
        Invoker = new HttpMessageInvoker(new TunnelHandler(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = options.ConnectTimeout,
            ActivityHeadersPropagator = new Yarp.ReverseProxy.Forwarder.ReverseProxyPropagator(DistributedContextPropagator.Current),

            // backend-protocol https: pods are reached by IP, with certificates that rarely name it, so the link is
            // encrypted but not authenticated. Validation against a trusted root comes with TLS support.
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
        }));
    }

    internal HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
