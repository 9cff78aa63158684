using System.Net;
using System.Text.RegularExpressions;
using Passerelle.Model.Translation;

namespace Passerelle.Kubernetes.Api;

/// <summary>
/// How the gateway reads the Kubernetes API (<c>passerelle run --kubernetes</c>) and publishes Ingress status.
/// Defaults follow client-go's informers and leader election, so the gateway loads the API server as any
/// controller does. Documented in docs/kubernetes.md; <see cref="Validate"/> runs at start-up.
/// </summary>
public sealed partial class KubernetesApiOptions
{
    /// <summary>A kubeconfig file; null uses the in-cluster service account.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context; null uses its current context.</summary>
    public string? Context { get; set; }

    /// <summary>Namespaces to watch; empty watches all of them. IngressClasses are cluster-scoped and always watched.</summary>
    public IReadOnlyList<string> Namespaces { get; set; } = [];

    /// <summary>Addresses (IPs or DNS names) written to <c>status.loadBalancer.ingress</c> of the gateway's Ingresses.</summary>
    public IReadOnlyList<string> PublishAddresses { get; set; } = [];

    /// <summary>A Service (<c>namespace/name</c>) whose LoadBalancer addresses are written to the Ingresses' status instead.</summary>
    public string? PublishService { get; set; }

    /// <summary>The Lease that elects the one replica writing Ingress status.</summary>
    public string LeaseName { get; set; } = "passerelle-leader";

    /// <summary>The Lease's namespace; null uses the gateway's own (the service account's, or the kubeconfig context's).</summary>
    public string? LeaseNamespace { get; set; }

    /// <summary>This replica's name in the Lease; null uses <c>POD_NAME</c> or the host name, with a random suffix.</summary>
    public string? Identity { get; set; }

    /// <summary>IngressClass <c>spec.controller</c> values whose Ingresses the gateway serves.</summary>
    public IReadOnlyList<string> Controllers { get; set; } = IngressClassPolicy.Default.Controllers;

    /// <summary>Values of the legacy <c>kubernetes.io/ingress.class</c> annotation the gateway serves.</summary>
    public IReadOnlyList<string> IngressClassAnnotations { get; set; } = IngressClassPolicy.Default.AnnotationValues;

    /// <summary>
    /// The shortest time a watch is asked to last (<c>timeoutSeconds</c>, chosen between this and twice this, as
    /// client-go does so that replicas do not reconnect together). A watch silent for longer than its timeout
    /// plus <see cref="RequestTimeout"/> is taken as a broken connection. Default 5 minutes.
    /// </summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a list, a status update or a Lease call may take. Default 30 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait before retrying a failed list or watch; it doubles up to <see cref="MaxRetryDelay"/>, with jitter. Default 500 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between retries. Default 30 s.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Objects per list page. Default 500, as client-go.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>How long a leader holds the Lease without renewing it. Default 15 s, as client-go.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps trying to renew before it stops writing status. Default 10 s.</summary>
    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the Lease is tried or renewed. Default 2 s.</summary>
    public TimeSpan LeaseRetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>True when the gateway writes Ingress status (an address to publish was given).</summary>
    public bool PublishesStatus => PublishAddresses.Count > 0 || PublishService is not null;

    /// <summary>The ingress class policy of a cluster: IngressClass objects decide.</summary>
    public IngressClassPolicy ClassPolicy => IngressClassPolicy.ForCluster(Controllers, IngressClassAnnotations);

    /// <summary>The publish Service as (namespace, name), once validated.</summary>
    public (string Namespace, string Name)? PublishServiceName =>
        PublishService?.Split('/') is [var ns, var name] ? (ns, name) : null;

    /// <summary>Returns the problems with these options, empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Kubeconfig is not null && !File.Exists(Kubeconfig))
        {
            errors.Add($"--kubeconfig {Kubeconfig}: no such file");
        }

        foreach (var ns in Namespaces.Where(n => !IsDnsLabel(n)))
        {
            errors.Add($"--namespace \"{ns}\" is not a namespace name (lower-case letters, digits and '-', at most 63)");
        }

        foreach (var address in PublishAddresses.Where(a => !IPAddress.TryParse(a, out _) && !IsDnsName(a)))
        {
            errors.Add($"--publish-address \"{address}\" is neither an IP address nor a DNS name");
        }

        if (PublishService is not null)
        {
            if (PublishServiceName is not var (ns, name) || !IsDnsLabel(ns) || !IsDnsLabel(name))
            {
                errors.Add($"--publish-service \"{PublishService}\" must be namespace/name, such as passerelle/passerelle");
            }
            else if (PublishAddresses.Count > 0)
            {
                errors.Add("--publish-address and --publish-service both say what to publish; give one of them");
            }
        }

        if (!IsDnsName(LeaseName))
        {
            errors.Add($"--lease-name \"{LeaseName}\" is not a valid object name");
        }

        if (LeaseNamespace is not null && !IsDnsLabel(LeaseNamespace))
        {
            errors.Add($"--lease-namespace \"{LeaseNamespace}\" is not a namespace name");
        }

        if (Controllers.Count == 0 && IngressClassAnnotations.Count == 0)
        {
            errors.Add("--controller-class and --ingress-class are both empty: the gateway would serve no Ingress");
        }

        if (WatchTimeout < TimeSpan.FromSeconds(1) || RequestTimeout <= TimeSpan.Zero || RetryDelay <= TimeSpan.Zero || MaxRetryDelay < RetryDelay)
        {
            errors.Add("the watch timeout must be at least 1 s, the request timeout and retry delays positive");
        }

        if (PageSize < 1)
        {
            errors.Add("the list page size must be at least 1");
        }

        // client-go's rule: a leader must give up before others may take over, and renew several times meanwhile.
        if (LeaseDuration < TimeSpan.FromSeconds(1) || RenewDeadline >= LeaseDuration || LeaseRetryPeriod >= RenewDeadline)
        {
            errors.Add("leader election needs lease duration (at least 1 s) > renew deadline > retry period");
        }

        return errors;
    }

    private static bool IsDnsLabel(string text) => DnsLabel().IsMatch(text);

    private static bool IsDnsName(string text) => text.Length <= 253 && text.Split('.').All(IsDnsLabel);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();
}
