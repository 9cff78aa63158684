using System.CommandLine;
using System.Globalization;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>churn</c>: WebSocket upgrades per second. W workers each loop: TCP connect, opening handshake, one 64-byte echo,
/// close handshake, the server's end of stream; through each peer in turn. Target (issue 6): upgrades/s at least the
/// best peer's.
/// </summary>
internal static class ChurnMode
{
    private const string Rate = "upgrades_per_s";
    private const string P50 = "p50_ms";
    private const string P99 = "p99_ms";
    private const string Failures = "failures";

    private static readonly Column RateColumn = new(Rate, "upgrades/s", 0, Better.Higher, Ratio: true);
    private static readonly Column CpuColumn = new(Figure.ProxyCpu, "proxy CPU µs/upgrade", 0, Better.Lower, Ratio: true);

    public static Command Create()
    {
        var options = new ComparisonOptions();
        var workers = new Option<int>("--connections") { Description = "Concurrent workers, each opening, using and closing one WebSocket after another.", HelpName = "C", DefaultValueFactory = _ => 50 };
        var duration = new Option<int>("--duration") { Description = "Seconds measured per peer and run, after the warm-up.", HelpName = "SECONDS", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of churn before the measure, not counted.", HelpName = "SECONDS", DefaultValueFactory = _ => Warmup.DefaultSeconds };
        workers.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 2000) r.AddError("--connections must be 1 to 2000"); });
        duration.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 600) r.AddError("--duration must be 1 to 600 seconds"); });
        warmup.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 60) r.AddError("--warmup must be 0 to 60 seconds"); });

        var command = new Command("churn", "WebSocket upgrades/s (connect, handshake, one echo, close): no proxy, Passerelle, nginx, HAProxy, minimal YARP.")
        {
            workers, duration, warmup,
        };
        options.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            try
            {
                return await RunAsync(options.Settings(parse), parse.GetValue(workers), TimeSpan.FromSeconds(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(warmup)));
            }
            catch (BenchException e)
            {
                await Console.Error.WriteLineAsync("bench churn: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ComparisonSettings settings, int workers, TimeSpan duration, TimeSpan warmup)
    {
        var result = await ComparisonOptions.RunAsync(settings, "churn", workers, (context, peer) => Task.Factory.StartNew(() =>
        {
            var slots = Enumerable.Range(0, workers).Select(i => new RawConnection(i)).ToArray();
            var driver = new ChurnDriver();
            using var loop = new WebSocketLoop(peer.EndPoint, slots, driver);
            CpuWindow? cpu = null;
            driver.Run(loop, slots, warmup, duration, starts =>
            {
                if (starts)
                {
                    cpu = CpuWindow.Start(context, peer);
                }
                else
                {
                    cpu?.End();
                }
            });

            var percentiles = driver.Samples.PercentilesMs(50, 99);
            var figures = new Figures
            {
                [Rate] = driver.Cycles / duration.TotalSeconds,
                [P50] = percentiles[0],
                [P99] = percentiles[1],
                [Failures] = driver.FailuresInWindow,
            };
            cpu?.AddTo(figures, driver.Cycles);
            if (driver.Failures > 0)
            {
                Console.Error.WriteLine($"bench churn: {Peers.Name(peer.Peer)}: {driver.Failures} failed cycles; first: {driver.FirstFailure}");
            }

            return figures;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));

        var table = Report.PeerTable(result, RateColumn, new Column(P50, "cycle p50 ms", 2, Better.Lower), new Column(P99, "cycle p99 ms", 2, Better.Lower), CpuColumn,
            new Column(Figure.ClientCpu, "client CPU µs/upgrade", 0, Better.Lower), new Column(Figure.BackendCpu, "backend CPU µs/upgrade", 0, Better.Lower),
            new Column(Figure.Core0, "core 0 busy %", 0, Better.Lower), new Column(Figure.Core1, "core 1 busy %", 0, Better.Lower),
            new Column(Failures, "failed cycles", 0, Better.Lower));

        var verdicts = new List<Verdict>();
        var passerelle = result.Peers.FirstOrDefault(p => p.Peer == Peer.Passerelle);
        if (passerelle is not null)
        {
            var rate = passerelle.Median(Rate);
            var best = Report.Best(result, Rate, Better.Higher);
            verdicts.Add(new Verdict("upgrades/s ≥ the best peer", PingPongMode.Compare(rate, best, (a, b) => a >= b),
                string.Create(CultureInfo.InvariantCulture, $"{Report.Number(rate, 0)} against {Report.Number(best, 0)} for {Report.BestName(result, Rate, Better.Higher)}: {Report.Ratio(rate, best)}")));
        }

        var notes = result.Peers.SelectMany(p => p.Runs.Select((r, i) => (p.Peer, Run: i + 1, Failed: r?.GetValueOrDefault(Failures) ?? 0)))
            .Where(x => x.Failed > 0)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{Peers.Name(x.Peer)}, run {x.Run}: {x.Failed:F0} cycles failed in the window (refused, closed early, wrong echo)"));

        return await Report.WriteAsync(settings, result,
            "WebSocket connection churn: Passerelle, nginx, HAProxy, minimal YARP",
            string.Create(CultureInfo.InvariantCulture, $"{workers} workers, each in a loop: connect, upgrade, one 64-byte echo, close handshake, wait for the server to close; through each peer. Made by `bench/run.sh churn`."),
            [
                string.Create(CultureInfo.InvariantCulture, $"per peer and run: {warmup.TotalSeconds:F0} s not counted, then {duration.TotalSeconds:F0} s measured; upgrades/s counts the cycles that ended in the window; the cycle time is from the connect call to the server's end of stream"),
                "each connection binds a new client address in 127.0.x.y (62,500 in rotation); the server closes the TCP connection first, as RFC 6455 asks, so the client leaves no TIME_WAIT behind",
                "load: the bench's own client (`Infrastructure/WebSocketLoop.cs`); the handshake answer must be `101` with the right `Sec-WebSocket-Accept`",
            ],
            table, verdicts, notes, [RateColumn, CpuColumn],
            new SummaryLine(string.Create(CultureInfo.InvariantCulture, $"churn: upgrades/s ({workers} workers)"), Rate, 0, "",
                "churn: proxy CPU µs per upgrade"));
    }
}
