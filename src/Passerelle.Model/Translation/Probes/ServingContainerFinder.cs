using System.Globalization;
using k8s.Models;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation.Probes;

/// <summary>The container that serves a Service port, where it was found, and the endpoint port it serves.</summary>
/// <param name="Workload">The Pod or Deployment the container was read from.</param>
/// <param name="ContainerField">Its field path in <paramref name="Workload"/>: <c>spec.containers[0]</c> or <c>spec.template.spec.containers[0]</c>.</param>
/// <param name="Note">Why this container was chosen, when it was not by its declared port.</param>
internal sealed record ServingContainer(SourcedObject Workload, string ContainerField, V1Container Container, string? Note)
{
    /// <summary>How derivation sentences name it: <c>container web in Deployment default/web</c>.</summary>
    public string Describe => $"container {Container.Name} in {Workload.Ref}";
}

/// <summary>What a Service port leads to: the serving container, or a sentence saying why there is none.</summary>
internal readonly record struct ContainerLookup(ServingContainer? Container, int? EndpointPort, string? Why);

/// <summary>
/// Finds the container behind a Service port, as AGIC does to copy its readiness or liveness probe: the pods
/// whose labels match the Service's selector (the first by name: <c>v1 Pod</c> objects as the API lists them,
/// else the pod template of an <c>apps/v1 Deployment</c>, which is what manifests have), then the container that
/// declares the targetPort, by number or by name. When the Service has one port and the pod one container, that
/// container serves it even if it declares no port (Kubernetes does not require containerPort).
/// </summary>
internal sealed class ServingContainerFinder
{
    private readonly ILookup<string, SourcedObject> _pods;
    private readonly ILookup<string, SourcedObject> _deployments;

    public ServingContainerFinder(ObjectSet objects)
    {
        _pods = ByNamespace(objects.Pods);
        _deployments = ByNamespace(objects.Deployments);
    }

    /// <summary>The targetPort of a Service port: a number (the port itself when unset) or a container port name.</summary>
    public static (int? Number, string? Name) TargetOf(V1ServicePort port)
    {
        var text = port.TargetPort?.Value;
        if (string.IsNullOrEmpty(text))
        {
            return (port.Port, null);
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? (number, null) : (null, text);
    }

    public ContainerLookup Find(SourcedObject serviceSource, V1ServicePort port)
    {
        var service = (V1Service)serviceSource.Object;
        var (targetNumber, targetName) = TargetOf(port);
        var selector = service.Spec?.Selector;
        if (selector is null || selector.Count == 0)
        {
            // A Service without selector has endpoints managed by hand: there are no pods to read.
            return new ContainerLookup(null, targetNumber, null);
        }

        var ns = serviceSource.Object.Metadata.NamespaceProperty ?? "default";
        var found = FindPodSpec(ns, selector);
        if (found is not var (workload, specField, spec))
        {
            var labels = string.Join(",", selector.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
            return new ContainerLookup(null, targetNumber,
                $"no Pod or Deployment in namespace {ns} matches the selector {labels} of {serviceSource.Ref}: no readiness or liveness probe to copy");
        }

        var containers = spec.Containers ?? [];
        for (var i = 0; i < containers.Count; i++)
        {
            var declared = containers[i].Ports?.FirstOrDefault(p => targetNumber is int n ? p.ContainerPort == n : p.Name == targetName);
            if (declared is not null)
            {
                return new ContainerLookup(new ServingContainer(workload, $"{specField}.containers[{i}]", containers[i], null),
                    targetNumber ?? declared.ContainerPort, null);
            }
        }

        var target = targetNumber is int number ? number.ToString(CultureInfo.InvariantCulture) : $"\"{targetName}\"";
        if (containers.Count == 1 && service.Spec?.Ports?.Count == 1)
        {
            var only = new ServingContainer(workload, $"{specField}.containers[0]", containers[0], null);
            return new ContainerLookup(only with
            {
                Note = $"{only.Describe} taken as serving targetPort {target} of {serviceSource.Ref}: it declares no such port, "
                    + "but it is the pod's only container and the Service has one port",
            }, targetNumber, null);
        }

        return new ContainerLookup(null, targetNumber,
            $"no container of {workload.Ref} declares targetPort {target} of {serviceSource.Ref}: no readiness or liveness probe to copy");
    }

    private (SourcedObject Workload, string SpecField, V1PodSpec Spec)? FindPodSpec(string ns, IDictionary<string, string> selector)
    {
        foreach (var source in _pods[ns])
        {
            var pod = (V1Pod)source.Object;
            if (pod.Spec is not null && Matches(pod.Metadata.Labels, selector))
            {
                return (source, "spec", pod.Spec);
            }
        }

        foreach (var source in _deployments[ns])
        {
            var template = ((V1Deployment)source.Object).Spec?.Template;
            if (template?.Spec is not null && Matches(template.Metadata?.Labels, selector))
            {
                return (source, "spec.template.spec", template.Spec);
            }
        }

        return null;
    }

    private static bool Matches(IDictionary<string, string>? labels, IDictionary<string, string> selector) =>
        labels is not null && selector.All(p => labels.TryGetValue(p.Key, out var value) && value == p.Value);

    private static ILookup<string, SourcedObject> ByNamespace(IEnumerable<SourcedObject> objects) =>
        objects
            .OrderBy(o => o.Object.Metadata.Name, StringComparer.Ordinal)
            .ToLookup(o => o.Object.Metadata.NamespaceProperty ?? "default");
}
