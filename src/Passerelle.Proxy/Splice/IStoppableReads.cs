namespace Passerelle.Proxy.Splice;

/// <summary>
/// A client side whose reads can be ended without an exception, as an end of input: when the backend ends a
/// WebSocket first, the usual way, the relay stops the client's reads this way instead of cancelling them.
/// </summary>
internal interface IStoppableReads
{
    void StopReading();
}
