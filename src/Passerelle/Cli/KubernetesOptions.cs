using System.CommandLine;
using Passerelle.Kubernetes.Api;
using Passerelle.Model.Translation;

namespace Passerelle.Cli;

/// <summary>The options of <c>passerelle run --kubernetes</c>, and their binding onto <see cref="KubernetesApiOptions"/>.</summary>
internal sealed class KubernetesOptions
{
    private static readonly KubernetesApiOptions Defaults = new();

    public Option<bool> Kubernetes { get; } = new("--kubernetes")
    {
        Description = "Serve the Ingresses of a Kubernetes cluster, listed and watched through its API (an ingress controller), instead of manifest files.",
    };

    public Option<string?> Kubeconfig { get; } = new("--kubeconfig")
    {
        Description = "With --kubernetes: a kubeconfig file; by default the pod's service account (in-cluster configuration).",
        HelpName = "PATH",
    };

    public Option<string?> Context { get; } = new("--context")
    {
        Description = "With --kubeconfig: the context to use instead of the file's current one.",
        HelpName = "NAME",
    };

    public Option<string[]> Namespaces { get; } = new("--namespace")
    {
        Description = "With --kubernetes: watch only this namespace (repeat for more); by default all of them. IngressClasses are always watched.",
        HelpName = "NAMESPACE",
    };

    public Option<string[]> PublishAddresses { get; } = new("--publish-address")
    {
        Description = "With --kubernetes: an IP or DNS name written to status.loadBalancer.ingress of the Ingresses served (repeat for more).",
        HelpName = "ADDRESS",
    };

    public Option<string?> PublishService { get; } = new("--publish-service")
    {
        Description = "With --kubernetes: write the LoadBalancer addresses of this Service (namespace/name) to the Ingresses' status.",
        HelpName = "NAMESPACE/NAME",
    };

    public Option<string> LeaseName { get; } = new("--lease-name")
    {
        Description = "With --kubernetes: the Lease electing the one replica that writes Ingress status.",
        HelpName = "NAME",
        DefaultValueFactory = _ => Defaults.LeaseName,
    };

    public Option<string?> LeaseNamespace { get; } = new("--lease-namespace")
    {
        Description = "With --kubernetes: the Lease's namespace; by default the gateway's own.",
        HelpName = "NAMESPACE",
    };

    public Option<string[]> Controllers { get; } = new("--controller-class")
    {
        Description = "With --kubernetes: an IngressClass spec.controller whose Ingresses the gateway serves (repeat for more; default " +
            string.Join(" and ", IngressClassPolicy.Default.Controllers) + ").",
        HelpName = "CONTROLLER",
    };

    public Option<string[]> AnnotationValues { get; } = new("--ingress-class")
    {
        Description = "With --kubernetes: a kubernetes.io/ingress.class annotation value the gateway serves (repeat for more; default " +
            string.Join(" and ", IngressClassPolicy.Default.AnnotationValues) + ").",
        HelpName = "CLASS",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Kubernetes);
        command.Options.Add(Kubeconfig);
        command.Options.Add(Context);
        command.Options.Add(Namespaces);
        command.Options.Add(PublishAddresses);
        command.Options.Add(PublishService);
        command.Options.Add(LeaseName);
        command.Options.Add(LeaseNamespace);
        command.Options.Add(Controllers);
        command.Options.Add(AnnotationValues);
    }

    /// <summary>The options given that only mean something with --kubernetes.</summary>
    public IEnumerable<string> GivenWithoutKubernetes(ParseResult parse) =>
        new Option[] { Kubeconfig, Context, Namespaces, PublishAddresses, PublishService, LeaseName, LeaseNamespace, Controllers, AnnotationValues }
            .Where(o => parse.GetResult(o) is { Implicit: false })
            .Select(o => o.Name);

    public KubernetesApiOptions Bind(ParseResult parse) => new()
    {
        Kubeconfig = parse.GetValue(Kubeconfig),
        Context = parse.GetValue(Context),
        Namespaces = parse.GetValue(Namespaces) ?? [],
        PublishAddresses = parse.GetValue(PublishAddresses) ?? [],
        PublishService = parse.GetValue(PublishService),
        LeaseName = parse.GetValue(LeaseName)!,
        LeaseNamespace = parse.GetValue(LeaseNamespace),
        Controllers = parse.GetValue(Controllers) is { Length: > 0 } controllers ? controllers : Defaults.Controllers,
        IngressClassAnnotations = parse.GetValue(AnnotationValues) is { Length: > 0 } values ? values : Defaults.IngressClassAnnotations,
    };
}
