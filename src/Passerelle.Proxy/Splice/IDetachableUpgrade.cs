namespace Passerelle.Proxy.Splice;

/// <summary>
/// A client connection that can outlive the request that upgraded it: the front door's, where nothing runs after the
/// request handler. The relay then runs on its own and the handler returns as soon as the WebSocket is set up, so
/// that an open WebSocket holds none of the handshake's state (request, response, the handler's frames); the relay
/// ends the connection with <see cref="End"/>.
/// </summary>
internal interface IDetachableUpgrade
{
    /// <summary>From now on the connection's end is the caller's: the request may complete without closing it.</summary>
    void Detach();

    /// <summary>The WebSocket is over: the connection is closed and its slot given back.</summary>
    void End();
}
