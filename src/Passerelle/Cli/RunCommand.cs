using System.CommandLine;
using Passerelle.Hosting;

namespace Passerelle.Cli;

/// <summary>
/// <c>passerelle run -f PATH</c>: serve the Ingresses of manifest files, watching them for changes;
/// <c>passerelle run --kubernetes</c>: serve the Ingresses of the cluster, as its ingress controller.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var options = new CommonOptions(defaultHttpPort: 80);
        var kubernetes = new KubernetesOptions();
        var command = new Command("run",
            "Serve the Ingresses found in Kubernetes manifest files (-f), or those of a cluster through its API (--kubernetes), applying every change live.");
        options.Files.Required = false;
        command.Options.Add(options.Files);
        kubernetes.AddTo(command);
        options.AddListenerOptionsTo(command);
        command.Validators.Add(result =>
        {
            var files = result.GetResult(options.Files) is { Implicit: false };
            var api = result.GetValue(kubernetes.Kubernetes);
            if (files && api)
            {
                result.AddError("give either -f PATH (manifest files) or --kubernetes (the cluster's API), not both");
            }
            else if (!files && !api)
            {
                result.AddError("give -f PATH to serve manifest files, or --kubernetes to serve the cluster's Ingresses");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            if (!parse.GetValue(kubernetes.Kubernetes))
            {
                var stray = kubernetes.GivenWithoutKubernetes(parse).ToArray();
                if (stray.Length > 0)
                {
                    Console.Error.WriteLine($"passerelle: {string.Join(", ", stray)} only apply with --kubernetes");
                    return Task.FromResult(2);
                }

                return GatewayRunner.RunAsync(options.Bind(parse), new ConfigurationSource.Manifests(parse.GetValue(options.Files)!), cancellationToken);
            }

            return GatewayRunner.RunAsync(options.Bind(parse), new ConfigurationSource.KubernetesApi(kubernetes.Bind(parse)), cancellationToken);
        });
        return command;
    }
}
