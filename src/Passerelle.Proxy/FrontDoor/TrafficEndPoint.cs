using System.Net;

namespace Passerelle.Proxy.FrontDoor;

/// <summary>The traffic port's address: the endpoint Kestrel binds through the front door, not its socket transport.</summary>
internal sealed class TrafficEndPoint(IPAddress address, int port) : IPEndPoint(address, port)
{
    public TrafficEndPoint(IPEndPoint bound)
        : this(bound.Address, bound.Port)
    {
    }
}
