using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation;

/// <summary>
/// Which Ingresses a gateway answers for. Manifest mode uses <see cref="Default"/>, which also accepts the
/// well-known class names when no IngressClass object is present (manifests rarely carry one). In a cluster
/// the IngressClass objects are the truth, as Kubernetes defines them: a <c>spec.ingressClassName</c> naming
/// a class that does not exist is not claimed, so that two controllers never serve the same Ingress.
/// </summary>
public sealed class IngressClassPolicy
{
    /// <summary>Both Passerelle's and AGIC's classes, and the well-known class names without objects.</summary>
    public static readonly IngressClassPolicy Default = new(
        [IngressClasses.PasserelleController, IngressClasses.ApplicationGateway],
        [IngressClasses.ApplicationGateway, IngressClasses.Passerelle],
        [IngressClasses.Passerelle, IngressClasses.ApplicationGatewayClassName]);

    public IngressClassPolicy(IReadOnlyList<string> controllers, IReadOnlyList<string> annotationValues, IReadOnlyList<string> classNamesWithoutObject)
    {
        Controllers = controllers;
        AnnotationValues = annotationValues;
        ClassNamesWithoutObject = classNamesWithoutObject;
    }

    /// <summary>A cluster's policy: IngressClass objects decide, no class name is accepted without its object.</summary>
    public static IngressClassPolicy ForCluster(IReadOnlyList<string> controllers, IReadOnlyList<string> annotationValues) =>
        new(controllers, annotationValues, []);

    /// <summary>Values of an IngressClass's <c>spec.controller</c> that make its Ingresses Passerelle's.</summary>
    public IReadOnlyList<string> Controllers { get; }

    /// <summary>Values of the legacy <c>kubernetes.io/ingress.class</c> annotation that are Passerelle's.</summary>
    public IReadOnlyList<string> AnnotationValues { get; }

    /// <summary><c>spec.ingressClassName</c> values accepted when no IngressClass of that name exists.</summary>
    public IReadOnlyList<string> ClassNamesWithoutObject { get; }

    /// <summary>The Ingresses this policy claims, for the status writer: the same decision the translator makes.</summary>
    public IReadOnlyList<SourcedObject> ClaimedIngresses(ObjectSet objects)
    {
        var filter = new IngressClassFilter(objects, this);
        var ignored = new List<Diagnostic>();
        return objects.Ingresses.Where(i => filter.IsOurs(i, ignored)).ToArray();
    }
}
