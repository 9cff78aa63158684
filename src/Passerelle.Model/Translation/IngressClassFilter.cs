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
    private readonly IngressClassPolicy _policy;

    public IngressClassFilter(ObjectSet objects, IngressClassPolicy policy)
    {
        _policy = policy;
        _classes = objects.IngressClasses
            .Select(o => (V1IngressClass)o.Object)
            .GroupBy(c => c.Metadata.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        _defaultClass = _classes.Values
            .Where(c => policy.Controllers.Contains(c.Spec?.Controller ?? "", StringComparer.Ordinal))
            .FirstOrDefault(c => c.Metadata.Annotations?.TryGetValue(Annotations.IsDefaultClass, out var v) == true
                && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase));
    }

    public bool IsOurs(SourcedObject source, List<Diagnostic> diagnostics)
    {
        var ingress = (V1Ingress)source.Object;
        var annotations = ingress.Metadata.Annotations;
        if (annotations is not null && annotations.TryGetValue(Annotations.IngressClass, out var annotated))
        {
            if (_policy.AnnotationValues.Contains(annotated, StringComparer.Ordinal))
            {
                return true;
            }

            diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Info, $"metadata.annotations[{Annotations.IngressClass}]",
                $"ignored: ingress class \"{annotated}\" belongs to another controller " +
                $"(Passerelle serves {Quoted(_policy.AnnotationValues, "and")})"));
            return false;
        }

        var className = ingress.Spec?.IngressClassName;
        if (!string.IsNullOrEmpty(className))
        {
            if (_classes.TryGetValue(className, out var ingressClass))
            {
                var controller = ingressClass.Spec?.Controller ?? "";
                if (_policy.Controllers.Contains(controller, StringComparer.Ordinal))
                {
                    return true;
                }

                diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Info, "spec.ingressClassName",
                    $"ignored: IngressClass \"{className}\" has controller \"{controller}\", not Passerelle's " +
                    $"({Quoted(_policy.Controllers, "or")})"));
                return false;
            }

            if (_policy.ClassNamesWithoutObject.Contains(className, StringComparer.Ordinal))
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

    private static string Quoted(IReadOnlyList<string> values, string conjunction) =>
        values.Count switch
        {
            0 => "nothing",
            1 => $"\"{values[0]}\"",
            _ => string.Join(", ", values.Take(values.Count - 1).Select(v => $"\"{v}\"")) + $" {conjunction} \"{values[^1]}\"",
        };
}
