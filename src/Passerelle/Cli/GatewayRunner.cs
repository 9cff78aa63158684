using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Passerelle.Hosting;
using Passerelle.Proxy;

namespace Passerelle.Cli;

/// <summary>Starts a gateway for a verb and runs it until the process is told to stop.</summary>
internal static class GatewayRunner
{
    public static Task<int> RunAsync(GatewayOptions options, IReadOnlyList<string> files, CancellationToken cancellationToken,
        Func<GatewayHost, Task>? started = null) =>
        RunAsync(options, new ConfigurationSource.Manifests(files), cancellationToken, started);

    public static async Task<int> RunAsync(GatewayOptions options, ConfigurationSource source, CancellationToken cancellationToken,
        Func<GatewayHost, Task>? started = null)
    {
        GatewayHost host;
        try
        {
            host = GatewayHost.Create(options, source);
        }
        catch (OptionsException e)
        {
            foreach (var problem in e.Problems)
            {
                await Console.Error.WriteLineAsync($"passerelle: {problem}");
            }

            return 2;
        }

        await using (host)
        {
            // A cluster without Ingresses yet is a normal start (they come later); manifests that serve nothing are a mistake.
            var model = host.LoadInitialConfiguration();
            if (source is ConfigurationSource.Manifests(var files) && model.Routes.Count == 0 && model.DefaultRoute is null)
            {
                await Console.Error.WriteLineAsync(
                    "passerelle: nothing to serve: no Ingress of class azure/application-gateway or passerelle with a usable rule " +
                    $"in {string.Join(", ", files)} (see the diagnostics above; 'passerelle check -f PATH' prints them all)");
                return 1;
            }

            try
            {
                await host.StartAsync(cancellationToken);
            }
            catch (IOException e) when (e.InnerException is SocketException || e.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                await Console.Error.WriteLineAsync($"passerelle: cannot listen: {e.Message}");
                return 2;
            }

            if (started is not null)
            {
                await started(host);
            }

            await host.App.WaitForShutdownAsync(CancellationToken.None);
            return 0;
        }
    }
}
