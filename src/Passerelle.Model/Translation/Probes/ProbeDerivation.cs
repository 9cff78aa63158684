using System.Globalization;
using k8s.Models;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Health;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation.Probes;

/// <summary>
/// Derives a backend's health probe with AGIC's rules (pkg/appgw/health_probes.go), later rules winning:
/// Application Gateway's defaults, the Ingress rule's host and the <c>backend-hostname</c> annotation, the
/// <c>backend-path-prefix</c> annotation or the Ingress path, https for port 443, the serving container's
/// readiness (else liveness) httpGet probe, the <c>backend-protocol</c> annotation, then the
/// <c>appgw.ingress.kubernetes.io/health-probe-*</c> annotations and <c>passerelle.io/health-probe-mode</c>.
/// docs/health-probes.md lists each rule. Every value set says where it came from in <see cref="ProbeSpec.Derivation"/>.
/// </summary>
internal sealed class ProbeDerivation
{
    // What the API server fills in when a probe leaves them out (k8s.io/api/core/v1 Probe).
    private const int KubernetesPeriodSeconds = 10;
    private const int KubernetesTimeoutSeconds = 1;
    private const int KubernetesFailureThreshold = 3;
    private const string KubernetesDefault = " (unset: Kubernetes default)";

    private readonly ServingContainerFinder _containers;

    // The same Ingress, Deployment or Pod is read once per backend that uses it; each finding is reported once.
    private readonly HashSet<Diagnostic> _reported = [];

    public ProbeDerivation(ObjectSet objects)
    {
        _containers = new ServingContainerFinder(objects);
    }

    public ProbeSpec Derive(SourcedObject ingress, V1IngressRule? rule, V1HTTPIngressPath? path, V1IngressServiceBackend backend,
        SourcedObject? service, List<Diagnostic> diagnostics)
    {
        void Report(Diagnostic diagnostic)
        {
            if (_reported.Add(diagnostic))
            {
                diagnostics.Add(diagnostic);
            }
        }

        var annotations = ProbeAnnotations.Read(ingress, Report);
        var (ruleField, backendField) = FieldsOf((V1Ingress)ingress.Object, rule, path);
        var serviceObject = service?.Object as V1Service;
        var ports = serviceObject?.Spec?.Ports ?? [];
        var portIndex = FindIndex(ports, p => backend.Port?.Number is int n ? p.Port == n : p.Name == backend.Port?.Name);
        var lookup = service is not null && portIndex >= 0 ? _containers.Find(service, ports[portIndex]) : default;
        var draft = new ProbeDraft(lookup.EndpointPort);

        // Rule 1, Application Gateway's default probe, is where the draft starts.

        // Rule 2: the Ingress rule's host, unless it is a wildcard; then the backend-hostname annotation.
        if (rule?.Host is { Length: > 0 } host)
        {
            if (host.Contains('*', StringComparison.Ordinal))
            {
                draft.Note($"host stays \"{draft.Host}\": {ruleField}.host \"{host}\" of {ingress.Ref} is a wildcard, which cannot be a probe's Host header");
            }
            else
            {
                draft.SetHost(host, $"{ruleField}.host of {ingress.Ref}");
            }
        }

        if (annotations.BackendHostname is { } backendHost)
        {
            draft.SetHost(backendHost, annotations.Source(Annotations.BackendHostname));
        }

        // Rule 3: the backend-path-prefix annotation, else the Ingress path.
        if (annotations.BackendPathPrefix is { } prefix)
        {
            SetPath(draft, prefix, annotations.Source(Annotations.BackendPathPrefix));
        }
        else if (!string.IsNullOrEmpty(path?.Path))
        {
            SetPath(draft, path.Path, $"{ruleField}.http.paths[{IndexOf(rule?.Http?.Paths, path)}].path", $"of {ingress.Ref}");
        }

        // Rule 4: https to a backend on port 443 (the Service port the Ingress names, or the endpoint port).
        if (backend.Port?.Number == 443)
        {
            draft.SetScheme("https", $"{backendField}.service.port.number 443 of {ingress.Ref}");
        }
        else if (draft.EndpointPort == 443 && service is not null)
        {
            draft.SetScheme("https", $"endpoint port 443 (spec.ports[{portIndex}].targetPort of {service.Ref})");
        }

        // Rule 5: the serving container's readiness, else liveness, httpGet probe.
        ApplyContainerProbe(draft, lookup, Report);

        // Rule 6: the backend-protocol annotation, applied after the pod's probe as AGIC does (the probe must use
        // the protocol of the backend settings).
        if (annotations.BackendProtocol is { } protocol)
        {
            draft.SetScheme(protocol, annotations.Source(Annotations.BackendProtocol));
        }

        // Rule 7: the health-probe-* annotations, in AGIC's order.
        if (annotations.Hostname is { } probeHost)
        {
            draft.SetHost(probeHost, annotations.Source(Annotations.HealthProbeHostname));
        }

        if (annotations.Port is { } probePort)
        {
            draft.SetPort(probePort, annotations.Source(Annotations.HealthProbePort));
        }

        if (annotations.Path is { } probePath)
        {
            SetPath(draft, probePath, annotations.Source(Annotations.HealthProbePath));
        }

        if (annotations.StatusCodes is { } statuses)
        {
            draft.SetHealthyStatuses(statuses, annotations.Source(Annotations.HealthProbeStatusCodes));
        }

        if (annotations.Interval is { } interval)
        {
            draft.SetInterval(interval, annotations.Source(Annotations.HealthProbeInterval));
        }

        if (annotations.Timeout is { } timeout)
        {
            draft.SetTimeout(timeout, annotations.Source(Annotations.HealthProbeTimeout));
        }

        if (annotations.UnhealthyThreshold is { } threshold)
        {
            draft.SetUnhealthyThreshold(threshold, annotations.Source(Annotations.HealthProbeUnhealthyThreshold));
        }

        // Rule 8: Passerelle's own probe mode.
        if (annotations.Mode is { } mode)
        {
            draft.SetMode(mode, annotations.Source(Annotations.HealthProbeMode));
        }

        return draft.Build();
    }

    private static void ApplyContainerProbe(ProbeDraft draft, ContainerLookup lookup, Action<Diagnostic> report)
    {
        if (lookup.Why is { } why)
        {
            draft.Note(why);
        }

        if (lookup.Container is not { } serving)
        {
            return;
        }

        if (serving.Note is { } note)
        {
            draft.Note(note);
        }

        var container = serving.Container;
        var of = $"of {serving.Describe}";
        string? kind = null;
        V1Probe? probe = null;
        foreach (var (candidateKind, candidate) in new[] { ("readinessProbe", container.ReadinessProbe), ("livenessProbe", container.LivenessProbe) })
        {
            if (candidate is null)
            {
                continue;
            }

            if (candidate.HttpGet is not null)
            {
                (kind, probe) = (candidateKind, candidate);
                break;
            }

            draft.Note($"{candidateKind} {of} ignored: it is {HandlerOf(candidate)}, and only httpGet probes can be copied");
        }

        if (probe?.HttpGet is not { } get || kind is null)
        {
            if (container.ReadinessProbe is null && container.LivenessProbe is null)
            {
                draft.Note($"{serving.Describe} has no readinessProbe or livenessProbe: nothing to copy");
            }

            return;
        }

        var field = $"{serving.ContainerField}.{kind}";
        if (!string.IsNullOrEmpty(get.Host))
        {
            draft.SetHost(get.Host, $"{kind}.httpGet.host {of}");
        }

        if (!string.IsNullOrEmpty(get.Path))
        {
            SetPath(draft, get.Path, $"{kind}.httpGet.path", of);
        }

        var portText = get.Port?.Value;
        var port = ResolvePort(portText, container);
        if (port is int number)
        {
            var named = int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? "" : $" \"{portText}\"";
            draft.SetPort(number, $"{kind}.httpGet.port{named} {of}");
        }
        else if (!string.IsNullOrEmpty(portText))
        {
            draft.Note($"{kind}.httpGet.port \"{portText}\" {of} names no port of the container: the probe keeps its port");
            report(Diagnostic.For(serving.Workload, DiagnosticSeverity.Warning, field + ".httpGet.port",
                $"\"{portText}\" is not the name of a port of container {container.Name}; the gateway's health probe keeps its port"));
        }

        // AGIC: HTTPS is https; HTTP (the default) is http, except on port 443.
        if (string.Equals(get.Scheme, "HTTPS", StringComparison.OrdinalIgnoreCase))
        {
            draft.SetScheme("https", $"{kind}.httpGet.scheme {of}");
        }
        else if (port == 443)
        {
            draft.SetScheme("https", $"{kind}.httpGet.port 443 {of} (AGIC takes HTTP on port 443 as https)");
        }
        else
        {
            draft.SetScheme("http", $"{kind}.httpGet.scheme {of}{(string.IsNullOrEmpty(get.Scheme) ? KubernetesDefault : "")}");
        }

        var period = Copy(probe.PeriodSeconds, KubernetesPeriodSeconds, ProbeAnnotations.MaxSeconds, "periodSeconds", "interval");
        draft.SetInterval(period.Value, period.Source);
        var timeout = Copy(probe.TimeoutSeconds, KubernetesTimeoutSeconds, ProbeAnnotations.MaxSeconds, "timeoutSeconds", "timeout");
        draft.SetTimeout(timeout.Value, timeout.Source);
        var threshold = Copy(probe.FailureThreshold, KubernetesFailureThreshold, ProbeAnnotations.MaxUnhealthyThreshold, "failureThreshold", "unhealthy threshold");
        draft.SetUnhealthyThreshold(threshold.Value, threshold.Source);

        // A value above Application Gateway's maximum is capped, as AGIC caps failureThreshold. AGIC passes a too
        // long period or timeout on, and Application Gateway refuses the whole configuration; Passerelle caps them.
        (int Value, string Source) Copy(int? given, int kubernetesDefault, int max, string name, string what)
        {
            if (given is not > 0)
            {
                return (kubernetesDefault, $"{kind}.{name} {of}{KubernetesDefault}");
            }

            if (given.Value <= max)
            {
                return (given.Value, $"{kind}.{name} {of}");
            }

            var agic = name == "failureThreshold" ? "as AGIC does" : "where AGIC would pass it on and Application Gateway refuse it";
            report(Diagnostic.For(serving.Workload, DiagnosticSeverity.Info, $"{field}.{name}",
                $"{name} {given.Value} is above Application Gateway's maximum {what} ({max}); the gateway's health probe uses {max}, {agic}"));
            return (max, $"{kind}.{name} {given.Value} {of}, capped at {max} (Application Gateway's maximum)");
        }
    }

    /// <summary>A probe port: a number, or the name of one of the container's ports.</summary>
    private static int? ResolvePort(string? text, V1Container container)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        return container.Ports?.FirstOrDefault(p => p.Name == text)?.ContainerPort;
    }

    /// <summary>
    /// Sets a path as AGIC does: a trailing '*' (an Application Gateway path pattern) is trimmed. A path that does
    /// not then start with "/" gets one, as the kubelet and Application Gateway require. <paramref name="owner"/>
    /// follows the quoted original value when it was changed.
    /// </summary>
    private static void SetPath(ProbeDraft draft, string value, string source, string? owner = null)
    {
        var path = value.TrimEnd('*');
        var how = path.Length < value.Length ? "trailing '*' trimmed" : null;
        if (path.Length == 0 || path[0] != '/')
        {
            path = "/" + path;
            how = how is null ? "\"/\" added" : how + ", \"/\" added";
        }

        var text = source + (how is null ? "" : $" \"{value}\"") + (owner is null ? "" : $" {owner}") + (how is null ? "" : $", {how}");
        draft.SetPath(path, text);
    }

    private static string HandlerOf(V1Probe probe) =>
        probe.Exec is not null ? "an exec probe"
        : probe.TcpSocket is not null ? "a tcpSocket probe"
        : probe.Grpc is not null ? "a grpc probe"
        : "a probe without handler";

    private static (string Rule, string Backend) FieldsOf(V1Ingress ingress, V1IngressRule? rule, V1HTTPIngressPath? path)
    {
        if (rule is null || path is null)
        {
            return ("", "spec.defaultBackend");
        }

        var ruleField = $"spec.rules[{IndexOf(ingress.Spec?.Rules, rule)}]";
        return (ruleField, $"{ruleField}.http.paths[{IndexOf(rule.Http?.Paths, path)}].backend");
    }

    private static int IndexOf<T>(IList<T>? items, T item)
        where T : class =>
        items is null ? -1 : FindIndex(items, i => ReferenceEquals(i, item));

    private static int FindIndex<T>(IList<T> items, Func<T, bool> match)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (match(items[i]))
            {
                return i;
            }
        }

        return -1;
    }
}
