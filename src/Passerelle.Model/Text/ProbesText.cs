using System.Text;
using Passerelle.Model.Health;

namespace Passerelle.Model.Text;

/// <summary>Each backend pool's health probe and where each of its values came from.</summary>
public static class ProbesText
{
    public static string Format(GatewayModel model)
    {
        if (model.Pools.Count == 0)
        {
            return "No backend pools.\n";
        }

        var text = new StringBuilder();
        foreach (var pool in model.Pools.Values.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var probe = pool.Probe;
            var target = probe.Mode == ProbeMode.Tcp ? "TCP connect" : $"GET {probe.Scheme}://{probe.Host}{(probe.Port is { } port ? $":{port}" : "")}{probe.Path}";
            text.Append($"{pool.Service.Namespace}/{pool.Service.Name}:{pool.ServicePort}: ")
                .Append($"mode {(probe.Mode is { } mode ? ProbeModes.Name(mode) : "(gateway default)")}, {target}, ")
                .Append($"every {probe.Interval.TotalSeconds:0.###}s, timeout {probe.Timeout.TotalSeconds:0.###}s, ")
                .Append($"unhealthy after {probe.UnhealthyThreshold}, healthy {probe.HealthyStatuses}\n");
            foreach (var step in probe.Derivation)
            {
                text.Append("  - ").Append(step).Append('\n');
            }
        }

        return text.ToString();
    }
}
