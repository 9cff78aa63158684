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
}
