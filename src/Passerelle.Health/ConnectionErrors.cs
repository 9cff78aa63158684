using System.Net.Sockets;

namespace Passerelle.Health;

/// <summary>A failed connection in the words a person uses: "connection refused", "connection reset".</summary>
public static class ConnectionErrors
{
    public static string Describe(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.ConnectionReset => "connection reset",
                    SocketError.TimedOut => "connection timed out",
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
                    _ => socket.SocketErrorCode.ToString(),
                };
            }
        }

        return exception?.InnerException?.Message ?? exception?.Message ?? "no detail";
    }
}
