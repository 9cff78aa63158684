using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Passerelle.Proxy.Tunnels;

// How a WebSocketTunnel gets hold of both upgraded streams without forking the forwarder. The client's side: the
// forwarder upgrades the client through IHttpUpgradeFeature (HTTP/1.1) or IHttpExtendedConnectFeature (HTTP/2,
// RFC 8441), which the gateway replaces for the request with wrappers. The backend's side: the forwarder reads the
// backend's upgraded stream from the 101 response's content, which TunnelHandler, inside the backend client,
// replaces with one whose stream is wrapped. The transformer tells the handler which tunnel a request belongs to.

/// <summary>The client's HTTP/1.1 upgrade, returning the tunnel's wrapper around Kestrel's upgraded stream.</summary>
internal sealed class TunnelUpgradeFeature(IHttpUpgradeFeature inner, WebSocketTunnel tunnel) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => tunnel.AttachClient(await inner.UpgradeAsync().ConfigureAwait(false));
}

/// <summary>The client's RFC 8441 extended CONNECT, returning the tunnel's wrapper around the HTTP/2 stream.</summary>
internal sealed class TunnelExtendedConnectFeature(IHttpExtendedConnectFeature inner, WebSocketTunnel tunnel) : IHttpExtendedConnectFeature
{
    public bool IsExtendedConnect => inner.IsExtendedConnect;

    public string? Protocol => inner.Protocol;

    public async ValueTask<Stream> AcceptAsync() => tunnel.AttachClient(await inner.AcceptAsync().ConfigureAwait(false));
}

/// <summary>The route's transformer, plus the tunnel put in the outgoing request's options for <see cref="TunnelHandler"/>.</summary>
internal sealed class TunnelTransformer(HttpTransformer inner, WebSocketTunnel tunnel) : HttpTransformer
{
    public static readonly HttpRequestOptionsKey<WebSocketTunnel> Key = new("Passerelle.WebSocketTunnel");

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await inner.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        proxyRequest.Options.Set(Key, tunnel);
    }

    public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken) =>
        inner.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);

    public override ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken) =>
        inner.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
}

/// <summary>
/// The first handler of the backend client: for an upgrade request that belongs to a tunnel and is answered
/// 101 Switching Protocols (or 200 to an HTTP/2 extended CONNECT), the response content becomes a
/// <see cref="TunnelContent"/> so that the forwarder copies through the tunnel's wrapper. Other requests pass
/// through without an allocation.
/// </summary>
internal sealed class TunnelHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var upgrade = request.Headers.Protocol is not null || request.Headers.NonValidated.Contains("Upgrade");
        return upgrade ? SendUpgradeAsync(request, cancellationToken) : base.SendAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendUpgradeAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var upgraded = response.StatusCode == HttpStatusCode.SwitchingProtocols ||
            (response.StatusCode == HttpStatusCode.OK && request.Method == HttpMethod.Connect && response.Version.Major >= 2);
        if (upgraded && request.Options.TryGetValue(TunnelTransformer.Key, out var tunnel))
        {
            response.Content = new TunnelContent(response.Content, tunnel);
        }

        return response;
    }
}

/// <summary>
/// The content of an upgraded backend response: the original's headers, no length, and as stream the tunnel's
/// wrapper around the original's (the upgraded connection). Disposing it disposes the original.
/// </summary>
internal sealed class TunnelContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly WebSocketTunnel _tunnel;

    public TunnelContent(HttpContent inner, WebSocketTunnel tunnel)
    {
        _inner = inner;
        _tunnel = tunnel;
        foreach (var header in inner.Headers.NonValidated)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        _tunnel.AttachBackend(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false));

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override Stream CreateContentReadStream(CancellationToken cancellationToken) =>
        _tunnel.AttachBackend(_inner.ReadAsStream(cancellationToken));

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
