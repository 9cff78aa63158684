using Microsoft.Extensions.Hosting;
using Passerelle.Kubernetes.Api.Status;

namespace Passerelle.Hosting;

/// <summary>Runs the Ingress status publisher (leader election included) for the host's lifetime.</summary>
internal sealed class IngressStatusService(IngressStatusPublisher publisher) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => publisher.RunAsync(stoppingToken);
}
