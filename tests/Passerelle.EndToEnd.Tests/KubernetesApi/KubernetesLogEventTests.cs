using System.Reflection;
using Microsoft.Extensions.Logging;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.Kubernetes.Api;

namespace Passerelle.EndToEnd.Tests.KubernetesApi;

/// <summary>Operators alert on event ids and names: every event of the Kubernetes source is documented in docs/logging.md as it is in the code.</summary>
public sealed class KubernetesLogEventTests
{
    [Fact]
    public void EveryKubernetesLogEventIsDocumentedWithItsIdNameAndLevel()
    {
        var documented = File.ReadAllLines(Path.Combine(GatewayUnderTest.RepositoryRoot, "docs", "logging.md"));
        var events = typeof(KubernetesObjectSource).Assembly.GetTypes()
            .Where(t => t.Namespace?.StartsWith("Passerelle.Kubernetes.Api", StringComparison.Ordinal) == true)
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .ToList();

        Assert.True(events.Count >= 15, $"found only {events.Count} events");
        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.All(events, e =>
        {
            Assert.InRange(e.EventId, 3001, 3999);
            Assert.Contains(documented, line => line.StartsWith($"| {e.EventId} | `{e.EventName}` | {e.Level} |", StringComparison.Ordinal));
        });
    }
}
