using k8s.Models;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation;

/// <summary>
/// Decides which Ingresses are Passerelle's, the way Kubernetes defines ingress classes: the legacy
/// <c>kubernetes.io/ingress.class</c> annotation first (it still wins in AGIC and ingress-nginx), then
/// <c>spec.ingressClassName</c> through the IngressClass's <c>spec.controller</c>, then a default IngressClass.
/// </summary>
internal sealed class IngressClassFilter
{
    private readonly Dictionary<string, V1IngressClass> _classes;
    private readonly V1IngressClass? _defaultClass;

    public IngressClassFilter(ObjectSet objects)
    {
        _classes = objects.IngressClasses
            .Select(o => (V1IngressClass)o.Object)
            .GroupBy(c => c.Metadata.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        _defaultClass = _classes.Values
            .Where(c => IngressClasses.Controllers.Contains(c.Spec?.Controller ?? ""))
            .FirstOrDefault(c => c.Metadata.Annotations?.TryGetValue(Annotations.IsDefaultClass, out var v) == true
                && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase));
    }

    public bool IsOurs(SourcedObject source, List<Diagnostic> diagnostics)
    {
        var ingress = (V1Ingress)source.Object;
        var annotations = ingress.Metadata.Annotations;
        if (annotations is not null && annotations.TryGetValue(Annotations.IngressClass, out var annotated))
        {
            if (IngressClasses.AnnotationValues.Contains(annotated))
            {
                return true;
            }

            diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Info, $"metadata.annotations[{Annotations.IngressClass}]",
                $"ignored: ingress class \"{annotated}\" belongs to another controller " +
                $"(Passerelle serves \"{IngressClasses.ApplicationGateway}\" and \"{IngressClasses.Passerelle}\")"));
            return false;
        }

        var className = ingress.Spec?.IngressClassName;
        if (!string.IsNullOrEmpty(className))
        {
            if (_classes.TryGetValue(className, out var ingressClass))
            {
                var controller = ingressClass.Spec?.Controller ?? "";
                if (IngressClasses.Controllers.Contains(controller))
                {
                    return true;
                }

                diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Info, "spec.ingressClassName",
                    $"ignored: IngressClass \"{className}\" has controller \"{controller}\", not Passerelle's " +
                    $"(\"{IngressClasses.PasserelleController}\" or \"{IngressClasses.ApplicationGateway}\")"));
                return false;
            }

            if (IngressClasses.WellKnownClassNames.Contains(className))
            {
                return true;
            }

            diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Info, "spec.ingressClassName",
                $"ignored: IngressClass \"{className}\" not found"));
            return false;
        }

        if (_defaultClass is not null)
        {
            return true;
        }

        diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Info, null,
            "ignored: no ingress class; set spec.ingressClassName: passerelle or the annotation " +
            $"{Annotations.IngressClass}: {IngressClasses.ApplicationGateway}"));
        return false;
    }
}
