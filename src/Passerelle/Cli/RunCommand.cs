using System.CommandLine;
using Passerelle.Hosting;

namespace Passerelle.Cli;

/// <summary><c>passerelle run -f PATH</c>: serve the Ingresses of manifest files, watching them for changes.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var options = new CommonOptions(defaultHttpPort: 80);
        var command = new Command("run", "Serve the Ingresses found in Kubernetes manifest files, applying every change to them live.");
        command.Options.Add(options.Files);
        options.AddListenerOptionsTo(command);
        command.SetAction((parse, cancellationToken) =>
            GatewayRunner.RunAsync(options.Bind(parse), parse.GetValue(options.Files)!, cancellationToken));
        return command;
    }
}
