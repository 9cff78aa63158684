using System.CommandLine;
using System.Globalization;

namespace Passerelle.Bench.Infrastructure;

/// <summary>The figures of one peer in one run, by name (see <see cref="Figure"/>).</summary>
internal sealed class Figures : Dictionary<string, double>;

/// <summary>Names of the figures the modes share.</summary>
internal static class Figure
{
    public const string ProxyCpu = "proxy_cpu_us";
    public const string ClientCpu = "client_cpu_us";
    public const string BackendCpu = "backend_cpu_us";
    public const string Core0 = "core0_busy";
    public const string Core1 = "core1_busy";
}

internal sealed record ComparisonSettings(FileInfo Gateway, DirectoryInfo Results, FileInfo EchoServer, FileInfo Yarp, int Runs, Peer[] Peers);

/// <summary>What a mode's measure of one peer can use: the settings, the backend, where files go.</summary>
internal sealed record ModeContext(ComparisonSettings Settings, string Mode, string Stem, string Tmp, string Work, EchoServerProcess Backend);

/// <summary>Every run of every peer: the figures of each run (null for a run that failed) and what failed.</summary>
internal sealed record PeerResults(Peer Peer, List<Figures?> Runs, List<string> Errors)
{
    public bool Measured => Runs.Any(r => r is not null);

    /// <summary>The median of <paramref name="key"/> over the runs that measured it (NaN: none did).</summary>
    public double Median(string key)
    {
        var values = Runs.Where(r => r is not null && r.TryGetValue(key, out var v) && !double.IsNaN(v)).Select(r => r![key]).Order().ToArray();
        if (values.Length == 0)
        {
            return double.NaN;
        }

        return values.Length % 2 == 1 ? values[values.Length / 2] : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
    }
}

internal sealed record ComparisonResult(DateTimeOffset Started, string Facts, string Stem, string Affinity, List<PeerResults> Peers,
    Dictionary<Peer, string> Commands, string BackendCommand)
{
    public PeerResults Of(Peer peer) => Peers.Single(p => p.Peer == peer);

    public bool AllMeasured => Peers.All(p => p.Measured);
}

/// <summary>The options of every mode that compares peers, and the loop that runs them: runs × peers, one after the other.</summary>
internal sealed class ComparisonOptions
{
    public BenchOptions Common { get; } = new();

    public Option<int> Runs { get; } = new("--runs")
    {
        Description = "Runs of every peer; the report gives the median of each figure.",
        HelpName = "N",
        DefaultValueFactory = _ => 3,
    };

    public Option<FileInfo> EchoServer { get; } = new("--echo-server")
    {
        Description = "The Go echo backend (built by bench/run.sh).",
        HelpName = "PATH",
        DefaultValueFactory = _ => new FileInfo(Path.Combine(BenchOptions.RepositoryRoot, "bench", "results", "tmp", "echo-server")),
    };

    public Option<FileInfo> Yarp { get; } = new("--yarp")
    {
        Description = "The minimal YARP app (bench/Peers/MinimalYarp, built by bench/run.sh).",
        HelpName = "PATH",
        DefaultValueFactory = _ => new FileInfo(Path.Combine(BenchOptions.RepositoryRoot, "bench", "Peers", "MinimalYarp", "bin", "Release", "net10.0", "minimal-yarp.dll")),
    };

    public Option<string> Only { get; } = new("--peers")
    {
        Description = "Comma-separated subset of peers to run: noproxy, passerelle, nginx, haproxy, yarp (default: all).",
        HelpName = "LIST",
    };

    public void AddTo(Command command)
    {
        Common.AddTo(command);
        command.Options.Add(Runs);
        command.Options.Add(EchoServer);
        command.Options.Add(Yarp);
        command.Options.Add(Only);
        Runs.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 20) r.AddError("--runs must be 1 to 20"); });
    }

    public ComparisonSettings Settings(ParseResult parse)
    {
        var only = parse.GetValue(Only);
        Peer[] peers = Peers.All;
        if (!string.IsNullOrWhiteSpace(only))
        {
            var names = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            peers = [.. Peers.All.Where(p => names.Contains(p switch
            {
                Peer.NoProxy => "noproxy",
                Peer.Passerelle => "passerelle",
                Peer.Nginx => "nginx",
                Peer.Haproxy => "haproxy",
                _ => "yarp",
            }, StringComparer.OrdinalIgnoreCase))];
        }

        return new ComparisonSettings(parse.GetValue(Common.Gateway)!, parse.GetValue(Common.Results)!, parse.GetValue(EchoServer)!,
            parse.GetValue(Yarp)!, parse.GetValue(Runs), peers);
    }

    /// <summary>
    /// Starts the echo backend, then for each run starts each peer in turn (the order turning by one each run), measures it with <paramref name="measure"/>
    /// and stops it. A peer that cannot be started or measured in a run has no figures for that run.
    /// </summary>
    public static async Task<ComparisonResult> RunAsync(ComparisonSettings settings, string mode, int capacity,
        Func<ModeContext, RunningPeer, Task<Figures>> measure)
    {
        var started = DateTimeOffset.Now;
        var facts = MachineFacts.Markdown(started); // before the run: its git and dotnet processes must not disturb it
        var affinity = ProcFs.CpusAllowed();
        if (affinity != "1")
        {
            await Console.Error.WriteLineAsync($"bench {mode}: warning: the bench process may run on CPUs {affinity}, not only core 1 (bench/run.sh pins it)");
        }

        var stem = $"{started:yyyy-MM-dd}-{mode}";
        var tmp = Directory.CreateDirectory(Path.Combine(settings.Results.FullName, "tmp")).FullName;
        var work = Directory.CreateTempSubdirectory("passerelle-bench-");
        try
        {
            await using var backend = await EchoServerProcess.StartAsync(settings.EchoServer, Path.Combine(tmp, stem + "-echo-server.log"));
            var context = new ModeContext(settings, mode, stem, tmp, work.FullName, backend);
            var results = settings.Peers.Select(p => new PeerResults(p, [], [])).ToList();
            var commands = new Dictionary<Peer, string>();
            for (var run = 1; run <= settings.Runs; run++)
            {
                // The order turns by one peer each run, so that a slow drift of the shared machine's load does not
                // always fall on the same peer.
                foreach (var result in results.Skip((run - 1) % results.Count).Concat(results.Take((run - 1) % results.Count)))
                {
                    await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"bench {mode}: run {run} of {settings.Runs}: {Peers.Name(result.Peer)}"));
                    try
                    {
                        await using var peer = await Peers.StartAsync(result.Peer, context, capacity);
                        commands[result.Peer] = peer.Command;
                        var files = peer.ProxyPid is { } pid ? ProcFs.OpenFiles(pid) : 0;
                        result.Runs.Add(await measure(context, peer));
                        if (peer.ProxyPid is { } proxy)
                        {
                            // The client has closed its sockets; a proxy still holding them when stopped would close
                            // them politely first (Passerelle spreads that over 5 s), which only lengthens the run.
                            await WaitReleasedAsync(proxy, files);
                        }
                    }
                    catch (BenchException e)
                    {
                        await Console.Error.WriteLineAsync($"bench {mode}: {Peers.Name(result.Peer)}: not measured: {e.Message}");
                        result.Runs.Add(null);
                        result.Errors.Add(string.Create(CultureInfo.InvariantCulture, $"run {run}: {e.Message}"));
                    }
                }
            }

            return new ComparisonResult(started, facts, stem, affinity, results, commands, backend.Command);
        }
        finally
        {
            try
            {
                work.Delete(recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }

    /// <summary>Waits up to 5 s for <paramref name="pid"/> to be back to about <paramref name="files"/> open files.</summary>
    private static async Task WaitReleasedAsync(int pid, int files)
    {
        for (var i = 0; i < 100 && ProcFs.OpenFiles(pid) > files + 20; i++)
        {
            await Task.Delay(50);
        }
    }
}
