using System.Net;
using Passerelle.Health;
using Passerelle.Model;

namespace Passerelle.Proxy.Runtime;

/// <summary>
/// One backend endpoint as the data plane uses it: its URL prefix for the forwarder and its health, which the
/// health monitor keeps across snapshot swaps, so a config change elsewhere forgets nothing about it.
/// </summary>
internal sealed class Destination(BackendEndpoint endpoint, EndpointHealth health)
{
    public BackendEndpoint Endpoint { get; } = endpoint;

    public string HttpPrefix { get; } = $"http://{endpoint}/";

    public string HttpsPrefix { get; } = $"https://{endpoint}/";

    public EndpointHealth Health { get; } = health;

    /// <summary>The endpoint as a socket address, for the direct WebSocket path; null when it is a host name.</summary>
    public IPEndPoint? SocketAddress { get; } =
        IPAddress.TryParse(endpoint.Address, out var ip) ? new IPEndPoint(ip, endpoint.Port) : null;

    /// <summary>"127.0.0.2:8888", formatted once: logs and the tunnel registry use it on every WebSocket.</summary>
    public string Name { get; } = endpoint.ToString();

    public override string ToString() => Name;
}
