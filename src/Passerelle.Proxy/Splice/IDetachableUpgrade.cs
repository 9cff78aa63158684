using Microsoft.AspNetCore.Http.Features;

namespace Passerelle.Proxy.Splice;

/// <summary>
/// A client connection that can outlive the request that upgraded it: the front door's, where nothing runs after the
/// request handler. The relay then runs on its own and the handler returns as soon as the WebSocket is set up, so
/// that an open WebSocket holds none of the handshake's state (request, response, the handler's frames).
/// </summary>
internal interface IDetachableUpgrade
{
    /// <summary>
    /// From now on the connection's end is the caller's: the request may complete without closing it. What is returned
    /// ends the connection and holds nothing of the request.
    /// </summary>
    IDetachedConnection Detach();
}

/// <summary>
/// A connection whose WebSocket runs on its own (<see cref="IDetachableUpgrade"/>); aborting it (the lifetime feature)
/// ends the relay's reads and writes, as aborting its request did.
/// </summary>
internal interface IDetachedConnection : IHttpRequestLifetimeFeature
{
    /// <summary>The WebSocket is over: the connection is closed and its slot given back.</summary>
    void End();
}
