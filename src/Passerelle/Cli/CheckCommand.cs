using System.CommandLine;
using Passerelle.Kubernetes.Files;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Text;
using Passerelle.Model.Translation;

namespace Passerelle.Cli;

/// <summary>
/// <c>passerelle check -f PATH</c>: print the diagnostics and the routing table the gateway would serve,
/// exit 1 when there is an error. For CI pipelines and for reading what a set of manifests means.
/// </summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var options = new CommonOptions(defaultHttpPort: 80);
        var command = new Command("check", "Print the diagnostics and the routing table for manifest files; exit 1 on errors.");
        command.Options.Add(options.Files);
        command.SetAction(parse =>
        {
            var manifests = new ManifestFiles(parse.GetValue(options.Files)!).Load();
            var model = GatewayTranslator.Translate(manifests.Objects);
            var diagnostics = manifests.Diagnostics.Concat(model.Diagnostics).ToList();
            Console.Out.Write(DiagnosticsText.Format(diagnostics));
            Console.Out.WriteLine();
            Console.Out.Write(RoutingTableText.Format(model));
            Console.Out.Write(RoutingTableText.FormatSettings(model));
            Console.Out.WriteLine();
            Console.Out.Write("Health probes:\n" + ProbesText.Format(model));
            return diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error) ? 1 : 0;
        });
        return command;
    }
}
