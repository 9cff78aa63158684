using System.CommandLine;
using System.Reflection;
using ChatServer;
using Microsoft.AspNetCore.Builder;
using Passerelle.Hosting;

namespace Passerelle.Cli;

/// <summary>
/// <c>passerelle demo</c>: the founding document's scenario on one machine, with nothing else installed. Two
/// replicas of the sample chat server stand in for the two pods (127.0.0.2:8888 and 127.0.0.3:8888), the
/// manifests of deploy/demo are written to a temporary folder that the gateway watches, and the gateway serves
/// them. Edit those files while it runs to see changes applied live.
/// </summary>
internal static class DemoCommand
{
    public static readonly string[] ReplicaAddresses = ["127.0.0.2", "127.0.0.3"];

    public static Command Create()
    {
        var options = new CommonOptions(defaultHttpPort: 8080);
        var command = new Command("demo",
            "Run the founding document's scenario locally: the gateway on --http-port (default 8080) and two chat " +
            "server replicas on 127.0.0.2:8888 and 127.0.0.3:8888, configured by the seed's manifests.");
        options.AddListenerOptionsTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var gatewayOptions = options.Bind(parse);
            var folder = WriteManifests();
            var replicas = new List<WebApplication>();

            // The two replicas form one chat room, as they would through Redis in a cluster (deploy/websocket-app),
            // with nothing to install.
            var room = new InProcessRoom();
            try
            {
                for (var i = 0; i < ReplicaAddresses.Length; i++)
                {
                    var name = $"websocket-server-{i}";
                    var app = ChatServerApp.Build(["--urls", $"http://{ReplicaAddresses[i]}:8888"], o =>
                    {
                        o.ReplicaName = name;

                        // The founding document's curl sends "Origin: http://localhost" with "Host: ws.contoso.com".
                        o.AllowedOrigins.Add("http://localhost");
                    }, room);
                    await app.StartAsync(cancellationToken);
                    replicas.Add(app);
                }

                return await GatewayRunner.RunAsync(gatewayOptions, [folder], cancellationToken, host =>
                {
                    // Stop the replicas first: they close every chat socket with 1001 Going Away, and those closes
                    // travel through the gateway, which then has no upgraded connection left to wait for.
                    host.App.Lifetime.ApplicationStopping.Register(() =>
                        Task.WhenAll(replicas.Select(r => r.StopAsync(CancellationToken.None))).Wait(TimeSpan.FromSeconds(10)));
                    PrintWelcome(host.HttpPort, host.AdminPort, folder);
                    return Task.CompletedTask;
                });
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"passerelle demo: cannot start the chat server replicas: {e.Message}");
                return 2;
            }
            finally
            {
                foreach (var replica in replicas)
                {
                    await replica.StopAsync(CancellationToken.None);
                    await replica.DisposeAsync();
                }
            }
        });
        return command;
    }

    private static string WriteManifests()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"passerelle-demo-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("demo/", StringComparison.Ordinal)))
        {
            using var input = assembly.GetManifestResourceStream(resource)!;
            using var output = File.Create(Path.Combine(folder, resource["demo/".Length..]));
            input.CopyTo(output);
        }

        return folder;
    }

    private static void PrintWelcome(int httpPort, int adminPort, string folder)
    {
        Console.Out.WriteLine($"""

            Passerelle demo is running.
              Chat page (open it in two browser windows): http://localhost:{httpPort}/
              The founding document's test:
                curl -i -N -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Origin: http://localhost" \
                     -H "Host: ws.contoso.com" -H "Sec-Websocket-Version: 13" -H "Sec-WebSocket-Key: 123" \
                     http://127.0.0.1:{httpPort}/ws
              Routing table and diagnostics: http://127.0.0.1:{adminPort}/config
              Manifests being served (edit them, changes apply live): {folder}
            Press Ctrl+C to stop.

            """);
    }
}
