using System.Net.Sockets;
using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health.Probes;

internal static class ProbeTargets
{
    public static int Port(BackendEndpoint endpoint, ProbeSpec probe) => probe.Port ?? endpoint.Port;

    public static Uri Url(string scheme, BackendEndpoint endpoint, ProbeSpec probe)
    {
        var host = endpoint.Address.Contains(':') ? $"[{endpoint.Address}]" : endpoint.Address;
        return new Uri($"{scheme}://{host}:{Port(endpoint, probe)}{probe.Path}");
    }

    /// <summary>A connection failure in a few words: "connection refused", "connection reset".</summary>
    public static string Describe(Exception exception)
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

        return exception.InnerException?.Message ?? exception.Message;
    }
}
