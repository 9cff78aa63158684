using k8s.Models;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Health;
using Passerelle.Model.Objects;
using Passerelle.Model.Translation.Probes;

namespace Passerelle.Model.Translation;

/// <summary>
/// Resolves an Ingress backend (Service name and port number or name) to a <see cref="BackendPool"/>:
/// Service port -> targetPort -> endpoint port, as Kubernetes does. A missing Service or port still yields a
/// pool, one that cannot serve and says why, so its route answers 502 with that reason instead of 404.
/// </summary>
internal sealed class BackendResolver
{
    private readonly Dictionary<(string Ns, string Name), SourcedObject> _services;
    private readonly EndpointReader _endpoints;
    private readonly Dictionary<string, BackendPool> _pools = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reportedEmpty = new(StringComparer.Ordinal);

    public BackendResolver(ObjectSet objects)
    {
        _services = objects.Services
            .GroupBy(o => (o.Object.Metadata.NamespaceProperty ?? "default", o.Object.Metadata.Name))
            .ToDictionary(g => g.Key, g => g.First());
        _endpoints = new EndpointReader(objects);
        Probes = new ProbeDerivation(objects);
    }

    public IReadOnlyDictionary<string, BackendPool> Pools => _pools;

    /// <summary>The Service, its pods' templates and the rest a probe is derived from.</summary>
    public ProbeDerivation Probes { get; }

    public string? Resolve(SourcedObject ingress, V1IngressRule? rule, V1HTTPIngressPath? path, V1IngressBackend? backend, string field,
        List<Diagnostic> diagnostics)
    {
        var ns = ingress.Object.Metadata.NamespaceProperty ?? "default";
        if (backend?.Service is not { } service)
        {
            var message = backend?.Resource is not null
                ? "resource backends are not supported; use a service backend"
                : "the backend names no service";
            diagnostics.Add(Diagnostic.For(ingress, DiagnosticSeverity.Error, field, message));
            return null;
        }

        if (string.IsNullOrEmpty(service.Name))
        {
            diagnostics.Add(Diagnostic.For(ingress, DiagnosticSeverity.Error, field + ".service.name", "the service name is required"));
            return null;
        }

        var portText = service.Port?.Number is int n ? n.ToString(System.Globalization.CultureInfo.InvariantCulture) : service.Port?.Name;
        if (string.IsNullOrEmpty(portText))
        {
            diagnostics.Add(Diagnostic.For(ingress, DiagnosticSeverity.Error, field + ".service.port",
                "a service port number or name is required"));
            return null;
        }

        _services.TryGetValue((ns, service.Name), out var serviceSource);
        var probe = Probes.Derive(ingress, rule, path, service, serviceSource, diagnostics);
        var key = BackendPool.KeyFor(ns, service.Name, portText, probe);
        if (!_pools.TryGetValue(key, out var pool))
        {
            pool = Build(ns, service.Name, service.Port!, portText, key, probe);
            _pools[key] = pool;
        }

        if (pool.Problem is not null && _reportedEmpty.Add(key))
        {
            diagnostics.Add(Diagnostic.For(ingress, DiagnosticSeverity.Warning, field + ".service",
                pool.Problem + "; requests to this backend get 502 Bad Gateway"));
        }

        return key;
    }

    private BackendPool Build(string ns, string name, V1ServiceBackendPort port, string portText, string key, ProbeSpec probe)
    {
        var serviceRef = new ObjectRef("Service", ns, name);
        if (!_services.TryGetValue((ns, name), out var source))
        {
            return new BackendPool(key, serviceRef, portText, [], $"Service {ns}/{name} not found", probe);
        }

        var serviceObject = (V1Service)source.Object;
        var servicePort = port.Number is int number
            ? serviceObject.Spec?.Ports?.FirstOrDefault(p => p.Port == number)
            : serviceObject.Spec?.Ports?.FirstOrDefault(p => p.Name == port.Name);
        if (servicePort is null)
        {
            var known = string.Join(", ", serviceObject.Spec?.Ports?.Select(p => p.Name is null ? $"{p.Port}" : $"{p.Port} ({p.Name})") ?? []);
            return new BackendPool(key, serviceRef, portText, [],
                $"Service {ns}/{name} has no port {(port.Number is null ? $"named \"{port.Name}\"" : portText)} (it has: {(known.Length == 0 ? "none" : known)})", probe);
        }

        if (string.Equals(serviceObject.Spec?.Type, "ExternalName", StringComparison.Ordinal))
        {
            return new BackendPool(key, serviceRef, portText, [], $"Service {ns}/{name} is of type ExternalName, which Passerelle does not route to", probe);
        }

        var (endpoints, found) = _endpoints.Read(ns, name, servicePort);
        string? problem = null;
        if (!found)
        {
            problem = $"Service {ns}/{name} has no Endpoints or EndpointSlice";
        }
        else if (!endpoints.Any(e => e.Ready))
        {
            problem = endpoints.Count == 0
                ? $"Service {ns}/{name} has no endpoint for port {portText}"
                : $"Service {ns}/{name} has no ready endpoint ({endpoints.Count} not ready)";
        }

        return new BackendPool(key, serviceRef, portText, endpoints, problem, probe);
    }
}
