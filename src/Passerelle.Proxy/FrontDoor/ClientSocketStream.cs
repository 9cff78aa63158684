using System.Net.Sockets;
using Passerelle.Proxy.Splice;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// The client's side of a WebSocket the front door took: its socket, read and written directly by the relay with
/// no server layer between. The front door owns the socket and closes it when the WebSocket ends.
/// </summary>
internal sealed class ClientSocketStream(Socket socket) : SocketStream(socket, ownsSocket: false), IStoppableReads
{
    /// <summary>Ends a pending or later read as an end of input (no exception): the backend has ended the WebSocket.</summary>
    public void StopReading()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed: reads end anyway.
        }
    }
}
