using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Passerelle.Proxy.Reactor;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// A front door's connection once its WebSocket runs on its own: the socket that carries it and what the front door
/// does when it ends, and nothing of the handshake's exchange, which is let go of as soon as the request handler
/// returns. It is also the tunnel's way to abort the connection (<see cref="IHttpRequestLifetimeFeature"/>) for the
/// WebSocket's life.
/// </summary>
internal sealed class DetachedConnection(ReactorSocket? adopted, Socket? socket, Action onEnd) : Splice.IDetachedConnection
{
    public CancellationToken RequestAborted { get; set; }

    public void Abort() => UpgradeExchange.Abort(adopted, socket);

    public void End()
    {
        UpgradeExchange.Close(adopted, socket);
        onEnd();
    }
}
