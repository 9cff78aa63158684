using System.Net;

namespace Passerelle.Bench.Infrastructure;

/// <summary>What the same load runs against, in this order; the first is no proxy at all, the limit.</summary>
internal enum Peer
{
    NoProxy,
    Passerelle,
    Nginx,
    Haproxy,
    MinimalYarp,
}

internal static class Peers
{
    public static readonly Peer[] All = [Peer.NoProxy, Peer.Passerelle, Peer.Nginx, Peer.Haproxy, Peer.MinimalYarp];

    /// <summary>The peers Passerelle is compared with: the best of them is "the best peer".</summary>
    public static readonly Peer[] Others = [Peer.Nginx, Peer.Haproxy, Peer.MinimalYarp];

    private static readonly string[] PinProxy = ["taskset", "-c", "0"];

    public static string Name(Peer peer) => peer switch
    {
        Peer.NoProxy => "no proxy (limit)",
        Peer.Passerelle => "Passerelle",
        Peer.Nginx => "nginx",
        Peer.Haproxy => "HAProxy",
        _ => "minimal YARP",
    };

    public static bool IsDotnet(Peer peer) => peer is Peer.Passerelle or Peer.MinimalYarp;

    /// <summary>
    /// Starts <paramref name="peer"/> pinned to core 0, proxying to the echo backend, ready for <paramref name="capacity"/>
    /// connections at once; returns once it accepts connections (Passerelle: once /readyz answers).
    /// </summary>
    public static async Task<RunningPeer> StartAsync(Peer peer, ModeContext context, int capacity)
    {
        var upstream = context.Backend.EndPoint;
        switch (peer)
        {
            case Peer.NoProxy:
                return new RunningPeer(peer, null, upstream.Port, null, "-");
            case Peer.Passerelle:
            {
                var manifests = Directory.CreateDirectory(Path.Combine(context.Work, "manifests")).FullName;
                await File.WriteAllTextAsync(Path.Combine(manifests, "echo.yaml"), PeerConfigs.PasserelleManifests(upstream));
                var gateway = GatewayProcess.Start(context.Settings.Gateway, manifests, Path.Combine(context.Tmp, context.Stem + "-passerelle.log"), PinProxy);
                try
                {
                    await gateway.WaitReadyAsync(TimeSpan.FromSeconds(30));
                }
                catch
                {
                    await gateway.DisposeAsync();
                    throw;
                }

                var shown = gateway.CommandLine
                    .Replace(context.Settings.Gateway.FullName, Relative(context.Settings.Gateway.FullName), StringComparison.Ordinal)
                    .Replace(manifests, "TMP/manifests", StringComparison.Ordinal);
                return new RunningPeer(peer, gateway, gateway.HttpPort, gateway.ProcessId, shown);
            }

            case Peer.Nginx:
            {
                var port = GatewayProcess.FreePort();
                var conf = await WriteConfigAsync(context, "nginx", PeerConfigs.Nginx(context.Tmp, context.Stem, port, upstream, capacity));
                var process = await StartListeningAsync(context, "nginx", ["nginx", "-p", context.Tmp + "/", "-c", conf], port);
                try
                {
                    var worker = await NginxWorkerAsync(process.ProcessId);
                    return new RunningPeer(peer, process, port, worker, Relative(process.CommandLine));
                }
                catch
                {
                    await process.DisposeAsync();
                    throw;
                }
            }

            case Peer.Haproxy:
            {
                var port = GatewayProcess.FreePort();
                var conf = await WriteConfigAsync(context, "haproxy", PeerConfigs.Haproxy(port, upstream, capacity));
                var process = await StartListeningAsync(context, "haproxy", ["haproxy", "-db", "-f", conf], port);
                return new RunningPeer(peer, process, port, process.ProcessId, Relative(process.CommandLine));
            }

            default:
            {
                var port = GatewayProcess.FreePort();
                var yarp = context.Settings.Yarp;
                if (!yarp.Exists)
                {
                    throw new BenchException($"no minimal YARP app at {Relative(yarp.FullName)}: build it first (dotnet build -c Release bench/Peers/MinimalYarp)");
                }

                var process = await StartListeningAsync(context, "yarp",
                    ["dotnet", yarp.FullName, "--urls", $"http://127.0.0.1:{port}", "--destination", $"http://{upstream}"], port);
                return new RunningPeer(peer, process, port, process.ProcessId, Relative(process.CommandLine));
            }
        }
    }

    /// <summary>A path or command line with the repository's folder left out, for reports.</summary>
    public static string Relative(string text) => text.Replace(BenchOptions.RepositoryRoot + "/", "", StringComparison.Ordinal);

    private static async Task<string> WriteConfigAsync(ModeContext context, string name, string text)
    {
        var conf = Path.Combine(context.Tmp, $"{context.Stem}-{name}.conf");
        await File.WriteAllTextAsync(conf, text);
        return conf;
    }

    private static async Task<ExternalProcess> StartListeningAsync(ModeContext context, string name, string[] command, int port)
    {
        var process = ExternalProcess.Start([.. PinProxy, .. command], Path.Combine(context.Tmp, $"{context.Stem}-{name}.log"));
        try
        {
            await process.WaitListeningAsync(port, TimeSpan.FromSeconds(30));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return process;
    }

    /// <summary>The pid of nginx's worker: the one child of its master process (waits up to 5 s for it).</summary>
    private static async Task<int> NginxWorkerAsync(int master)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var children = ProcFs.Children(master);
            if (children.Count == 1)
            {
                return children[0];
            }

            await Task.Delay(100);
        }

        throw new BenchException($"could not find the one worker process of nginx (master pid {master})");
    }
}

/// <summary>A started peer: where to connect, which process does its proxying (null: none, no proxy), how it was started.</summary>
internal sealed class RunningPeer(Peer peer, IAsyncDisposable? process, int port, int? pid, string command) : IAsyncDisposable
{
    public Peer Peer { get; } = peer;

    public int Port { get; } = port;

    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <summary>The process whose CPU and memory are the proxy's: Passerelle's or YARP's dotnet, nginx's worker, HAProxy.</summary>
    public int? ProxyPid { get; } = pid;

    public string Command { get; } = command;

    public ValueTask DisposeAsync() => process?.DisposeAsync() ?? ValueTask.CompletedTask;
}
