using System.CommandLine;
using System.Text;
using Passerelle.Health;
using Passerelle.Kubernetes.Files;
using Passerelle.Model;
using Passerelle.Model.Translation;

namespace Passerelle.Cli;

/// <summary>
/// <c>passerelle doctor -f PATH</c>: probes every backend as Application Gateway with AGIC would and as
/// Passerelle will, prints the verdicts side by side with the fix, and exits 1 when Application Gateway would
/// answer 502 Bad Gateway for a backend: the founding document's trap, found before users find it.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var options = new CommonOptions(defaultHttpPort: 80);
        var command = new Command("doctor",
            "Probe each backend as Application Gateway + AGIC would and as Passerelle will; exit 1 when Application Gateway would answer 502.");
        command.Options.Add(options.Files);
        command.Options.Add(options.HealthProbeMode);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var manifests = new ManifestFiles(parse.GetValue(options.Files)!).Load();
            var model = GatewayTranslator.Translate(manifests.Objects);
            var mode = parse.GetValue(options.HealthProbeMode);
            var appGatewayFails = false;
            var report = new StringBuilder();
            var rows = new List<string[]> { new[] { "BACKEND", "ENDPOINT", "APPLICATION GATEWAY + AGIC", "PASSERELLE" } };
            var fixes = new List<string>();

            foreach (var pool in model.Pools.Values.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                var name = $"{pool.Service.Namespace}/{pool.Service.Name}:{pool.ServicePort}";
                var ready = pool.ReadyEndpoints.ToList();
                if (ready.Count == 0)
                {
                    rows.Add([name, "-", $"502: {pool.Problem}", $"502: {pool.Problem}"]);
                    appGatewayFails = true;
                    continue;
                }

                var comparisons = await Task.WhenAll(ready.Select(e => ProbeComparison.RunAsync(pool, e, mode, cancellationToken)));
                foreach (var c in comparisons)
                {
                    rows.Add([name, c.Endpoint.ToString(), Verdict(c.ApplicationGateway), Verdict(c.Passerelle)]);
                    if (c.Fix(pool.Probe) is { } fix)
                    {
                        fixes.Add($"{name}: {fix}");
                    }
                }

                if (comparisons.All(c => !c.ApplicationGateway.Healthy))
                {
                    appGatewayFails = true;
                    var passerelleServes = comparisons.Any(c => c.Passerelle.Healthy);
                    report.AppendLine($"{name}: Application Gateway would mark every endpoint unhealthy and answer 502 Bad Gateway; " +
                        (passerelleServes ? "Passerelle serves it." : "Passerelle cannot serve it either."));
                }
            }

            Console.Out.Write(Table(rows));
            Console.Out.WriteLine();
            Console.Out.Write(report.Length == 0 ? "Application Gateway would serve every backend.\n" : report.ToString());
            foreach (var fix in fixes.Distinct())
            {
                Console.Out.WriteLine($"Fix: {fix}");
            }

            return appGatewayFails ? 1 : 0;
        });
        return command;
    }

    private static string Verdict(ProbeResult result) => $"{(result.Healthy ? "healthy" : "unhealthy")}: {result.Description}";

    private static string Table(List<string[]> rows)
    {
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        }

        return text.ToString();
    }
}
