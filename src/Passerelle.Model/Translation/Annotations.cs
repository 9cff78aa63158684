namespace Passerelle.Model.Translation;

/// <summary>
/// Annotation names the translator reads. The <c>appgw.ingress.kubernetes.io/</c> ones keep AGIC's names and
/// meanings so that existing manifests work unchanged; <c>passerelle.io/</c> ones are Passerelle's own.
/// Every name here is documented in docs/annotations.md.
/// </summary>
public static class Annotations
{
    public const string IngressClass = "kubernetes.io/ingress.class";
    public const string IsDefaultClass = "ingressclass.kubernetes.io/is-default-class";

    /// <summary>AGIC: seconds the gateway waits for a backend response (Application Gateway's request timeout).</summary>
    public const string RequestTimeout = "appgw.ingress.kubernetes.io/request-timeout";

    /// <summary>How long an upgraded (WebSocket) connection may stay idle in both directions before it is closed.</summary>
    public const string WebSocketIdleTimeout = "passerelle.io/websocket-idle-timeout";
}

/// <summary>The ingress classes and controllers Passerelle answers for.</summary>
public static class IngressClasses
{
    /// <summary>AGIC's class: Passerelle is a drop-in replacement for Application Gateway's ingress controller.</summary>
    public const string ApplicationGateway = "azure/application-gateway";

    public const string Passerelle = "passerelle";

    /// <summary>The <c>spec.controller</c> of Passerelle's own IngressClass.</summary>
    public const string PasserelleController = "passerelle.io/ingress-controller";

    /// <summary>The IngressClass name AGIC's Helm chart installs.</summary>
    public const string ApplicationGatewayClassName = "azure-application-gateway";

    /// <summary>Values accepted in the <c>kubernetes.io/ingress.class</c> annotation.</summary>
    public static readonly IReadOnlySet<string> AnnotationValues = new HashSet<string>(StringComparer.Ordinal)
    {
        ApplicationGateway, Passerelle,
    };

    /// <summary>Values accepted in an IngressClass's <c>spec.controller</c>.</summary>
    public static readonly IReadOnlySet<string> Controllers = new HashSet<string>(StringComparer.Ordinal)
    {
        ApplicationGateway, PasserelleController,
    };

    /// <summary><c>spec.ingressClassName</c> values accepted even when no IngressClass object is present (manifest mode).</summary>
    public static readonly IReadOnlySet<string> WellKnownClassNames = new HashSet<string>(StringComparer.Ordinal)
    {
        Passerelle, ApplicationGatewayClassName,
    };
}
