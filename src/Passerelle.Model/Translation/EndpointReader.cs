using k8s.Models;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation;

/// <summary>
/// Reads a Service port's endpoints the way kube-proxy and ingress controllers do: from the EndpointSlices
/// labelled <c>kubernetes.io/service-name</c>, or from the Endpoints object of the same name when there is no
/// slice. Endpoint ports are matched by the Service port's name, which is how a named targetPort is resolved.
/// </summary>
internal sealed class EndpointReader
{
    private const string ServiceNameLabel = "kubernetes.io/service-name";

    private readonly ILookup<(string Ns, string Service), V1EndpointSlice> _slices;
    private readonly Dictionary<(string Ns, string Name), V1Endpoints> _endpoints;

    public EndpointReader(ObjectSet objects)
    {
        _slices = objects.EndpointSlices
            .Select(o => (V1EndpointSlice)o.Object)
            .Where(s => s.Metadata.Labels?.ContainsKey(ServiceNameLabel) == true)
            .ToLookup(s => (s.Metadata.NamespaceProperty ?? "default", s.Metadata.Labels[ServiceNameLabel]));
        _endpoints = objects.Endpoints
            .Select(o => (V1Endpoints)o.Object)
            .GroupBy(e => (e.Metadata.NamespaceProperty ?? "default", e.Metadata.Name))
            .ToDictionary(g => g.Key, g => g.First());
    }

    /// <summary>Endpoints sorted by address then port, so that equal inputs give equal pools.</summary>
    public (List<BackendEndpoint> Endpoints, bool Found) Read(string ns, string service, V1ServicePort port)
    {
        var portName = port.Name ?? "";
        var result = new List<BackendEndpoint>();
        var slices = _slices[(ns, service)].ToList();
        if (slices.Count > 0)
        {
            foreach (var slice in slices)
            {
                var slicePort = slice.Ports?.FirstOrDefault(p => (p.Name ?? "") == portName);
                if (slicePort?.Port is not int number)
                {
                    continue;
                }

                foreach (var endpoint in slice.Endpoints ?? [])
                {
                    var address = endpoint.Addresses?.FirstOrDefault();
                    if (string.IsNullOrEmpty(address))
                    {
                        continue;
                    }

                    // discovery.k8s.io/v1: a nil condition means "true" for ready, "false" for terminating.
                    var terminating = endpoint.Conditions?.Terminating == true;
                    var ready = endpoint.Conditions?.Ready != false && !terminating;
                    result.Add(new BackendEndpoint(address, number, ready, terminating, endpoint.TargetRef?.Name));
                }
            }
        }
        else if (_endpoints.TryGetValue((ns, service), out var endpoints))
        {
            foreach (var subset in endpoints.Subsets ?? [])
            {
                var subsetPort = subset.Ports?.FirstOrDefault(p => (p.Name ?? "") == portName)
                    ?? (subset.Ports?.Count == 1 && string.IsNullOrEmpty(portName) ? subset.Ports[0] : null);
                if (subsetPort is null)
                {
                    continue;
                }

                foreach (var a in subset.Addresses ?? [])
                {
                    result.Add(new BackendEndpoint(a.Ip, subsetPort.Port, true, false, a.TargetRef?.Name));
                }

                foreach (var a in subset.NotReadyAddresses ?? [])
                {
                    result.Add(new BackendEndpoint(a.Ip, subsetPort.Port, false, false, a.TargetRef?.Name));
                }
            }
        }
        else
        {
            return (result, false);
        }

        // The same address can appear in several slices while they are being updated; keep one, ready if any is.
        var merged = result
            .GroupBy(e => (e.Address, e.Port))
            .Select(g => g.OrderByDescending(e => e.Ready).First())
            .OrderBy(e => e.Address, StringComparer.Ordinal)
            .ThenBy(e => e.Port)
            .ToList();
        return (merged, true);
    }
}
