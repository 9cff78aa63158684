using System.Diagnostics;
using System.Net;

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
        Invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = options.ConnectTimeout,
            ActivityHeadersPropagator = new Yarp.ReverseProxy.Forwarder.ReverseProxyPropagator(DistributedContextPropagator.Current),
        });
    }

    internal HttpMessageInvoker Invoker { get; }

    public void Dispose() => Invoker.Dispose();
}
