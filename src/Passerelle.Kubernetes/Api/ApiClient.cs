using k8s;
using k8s.Exceptions;

namespace Passerelle.Kubernetes.Api;

/// <summary>Builds the Kubernetes client from the options: a kubeconfig when one is named, else the pod's service account.</summary>
public static class ApiClient
{
    /// <summary>The client, the API server's address and the gateway's own namespace.</summary>
    /// <exception cref="ApiConfigurationException">The configuration cannot be loaded; the message says why.</exception>
    public static (IKubernetes Client, string Server, string OwnNamespace) Create(KubernetesApiOptions options)
    {
        KubernetesClientConfiguration config;
        try
        {
            if (options.Kubeconfig is not null)
            {
                config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig, options.Context);
            }
            else if (KubernetesClientConfiguration.IsInCluster())
            {
                config = KubernetesClientConfiguration.InClusterConfig();
            }
            else
            {
                throw new ApiConfigurationException(
                    "--kubernetes: not running in a cluster (no service account token in /var/run/secrets/kubernetes.io/serviceaccount); " +
                    "give --kubeconfig PATH to reach a cluster from outside");
            }
        }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException or YamlDotNet.Core.YamlException)
        {
            throw new ApiConfigurationException($"--kubeconfig {options.Kubeconfig}: {e.Message}");
        }

        // Watches are exempt from this timeout (the client lifts it for watch=true); lists, status updates and
        // Lease calls are not, so that a silent API server is noticed.
        config.HttpClientTimeout = options.RequestTimeout;

        // Without it a connection to an unreachable address waits for the kernel's SYN retries (minutes), and
        // neither an outage nor its end would be noticed in time.
        config.FirstMessageHandlerSetup = handler => handler.ConnectTimeout = options.RequestTimeout;
        config.UserAgent = "passerelle";
        return (new k8s.Kubernetes(config), config.Host, config.Namespace ?? "default");
    }
}

/// <summary>The Kubernetes client configuration cannot be loaded; the message is for the user.</summary>
public sealed class ApiConfigurationException(string message) : Exception(message);
