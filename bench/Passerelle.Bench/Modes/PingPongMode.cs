using System.CommandLine;
using System.Globalization;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>pingpong</c>: WebSocket message round trips. C connections each send a 64-byte text message and wait for its
/// echo, in a loop, through each peer in turn (no proxy, Passerelle, nginx, HAProxy, minimal YARP).
/// Target (issue 6): messages/s at least 1.1× the best peer's, p99 no worse than the best p99 of the peers.
/// </summary>
internal static class PingPongMode
{
    private const int MessageBytes = 64;
    private const double TargetRatio = 1.1;

    private static readonly Column Rate = new(EchoLoopMeasure.Rate, "messages/s", 0, Better.Higher, Ratio: true);
    private static readonly Column P99 = new(EchoLoopMeasure.P99, "p99 ms", 2, Better.Lower);

    public static Command Create()
    {
        var options = new ComparisonOptions();
        var connections = new Option<int>("--connections") { Description = "WebSockets open at once, each with one message in flight.", HelpName = "C", DefaultValueFactory = _ => 500 };
        var duration = new Option<int>("--duration") { Description = "Seconds measured per peer and run, after the warm-up.", HelpName = "SECONDS", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of ping-pong before the measure, not counted.", HelpName = "SECONDS", DefaultValueFactory = _ => Warmup.DefaultSeconds };
        connections.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 20_000) r.AddError("--connections must be 1 to 20000"); });
        duration.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 600) r.AddError("--duration must be 1 to 600 seconds"); });
        warmup.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 60) r.AddError("--warmup must be 0 to 60 seconds"); });

        var command = new Command("pingpong", "WebSocket round trips of 64-byte messages: no proxy, Passerelle, nginx, HAProxy, minimal YARP.")
        {
            connections, duration, warmup,
        };
        options.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            try
            {
                return await RunAsync(options.Settings(parse), parse.GetValue(connections),
                    TimeSpan.FromSeconds(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(warmup)));
            }
            catch (BenchException e)
            {
                await Console.Error.WriteLineAsync("bench pingpong: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ComparisonSettings settings, int connections, TimeSpan duration, TimeSpan warmup)
    {
        var payload = WebSocketFrames.Payload(MessageBytes, text: true);
        var result = await ComparisonOptions.RunAsync(settings, "pingpong", connections, (context, peer) =>
            EchoLoopMeasure.RunAsync(context, peer, connections, payload, WebSocketFrames.Text, warmup, duration, 64 * 1024));

        var table = Report.PeerTable(result, Rate,
            new Column(EchoLoopMeasure.P50, "p50 ms", 2, Better.Lower), P99, new Column(EchoLoopMeasure.P999, "p99.9 ms", 2, Better.Lower),
            new Column(Figure.ProxyCpu, "proxy CPU µs/msg", 1, Better.Lower, Ratio: true), new Column(Figure.ClientCpu, "client CPU µs/msg", 1, Better.Lower),
            new Column(Figure.BackendCpu, "backend CPU µs/msg", 1, Better.Lower),
            new Column(Figure.Core0, "core 0 busy %", 0, Better.Lower), new Column(Figure.Core1, "core 1 busy %", 0, Better.Lower));

        var passerelle = result.Peers.FirstOrDefault(p => p.Peer == Peer.Passerelle);
        var bestRate = Report.Best(result, Rate.Key, Better.Higher);
        var bestP99 = Report.Best(result, P99.Key, Better.Lower);
        var verdicts = new List<Verdict>();
        if (passerelle is not null)
        {
            var rate = passerelle.Median(Rate.Key);
            var p99 = passerelle.Median(P99.Key);
            verdicts.Add(new Verdict($"messages/s ≥ {TargetRatio:F1}× the best peer", Compare(rate, bestRate, (a, b) => a >= TargetRatio * b),
                string.Create(CultureInfo.InvariantCulture, $"{Report.Number(rate, 0)} against {Report.Number(bestRate, 0)} for {Report.BestName(result, Rate.Key, Better.Higher)}: {Report.Ratio(rate, bestRate)}")));
            verdicts.Add(new Verdict("p99 no worse than the best peer's", Compare(p99, bestP99, (a, b) => a <= b),
                string.Create(CultureInfo.InvariantCulture, $"{Report.Number(p99, 2)} ms against {Report.Number(bestP99, 2)} ms for {Report.BestName(result, P99.Key, Better.Lower)}")));
        }

        var notes = FailureNotes(result, connections).ToList();
        var noProxy = result.Peers.FirstOrDefault(p => p.Peer == Peer.NoProxy);
        if (noProxy is not null && !double.IsNaN(bestRate))
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"no proxy is at {Report.Ratio(noProxy.Median(Rate.Key), bestRate)} the best peer: {(noProxy.Median(Rate.Key) > 1.1 * Math.Max(bestRate, passerelle?.Median(Rate.Key) ?? 0) ? "the load side is not what limits the proxies" : "**the load side may be what limits the proxies** (no proxy is not clearly above them)")}"));
        }

        return await Report.WriteAsync(settings, result,
            "WebSocket ping-pong: Passerelle, nginx, HAProxy, minimal YARP",
            string.Create(CultureInfo.InvariantCulture, $"{connections} WebSockets, each sending a {MessageBytes}-byte text message and waiting for its echo, in a loop; the same load against the echo backend directly and through each proxy. Made by `bench/run.sh pingpong`."),
            [
                string.Create(CultureInfo.InvariantCulture, $"per peer and run: {connections} WebSockets opened (64 handshakes at a time), {warmup.TotalSeconds:F0} s of ping-pong not counted, then {duration.TotalSeconds:F0} s measured; messages/s counts the round trips started in the window; percentiles are nearest-rank over all of them"),
                "load: the bench's own client (`Infrastructure/WebSocketLoop.cs`): one thread, one epoll set, non-blocking sockets, frames encoded once, every echo compared byte for byte with the message sent",
            ],
            table, verdicts, notes, [Rate, P99, new Column(Figure.ProxyCpu, "proxy CPU µs/msg", 1, Better.Lower)],
            new SummaryLine(string.Create(CultureInfo.InvariantCulture, $"pingpong: {connections} WebSockets, 64-byte messages/s"), Rate.Key, 0, "",
                "pingpong: proxy CPU µs per message"));
    }

    internal static bool? Compare(double value, double reference, Func<double, double, bool> test) =>
        double.IsNaN(value) || double.IsNaN(reference) ? null : test(value, reference);

    internal static IEnumerable<string> FailureNotes(ComparisonResult result, int connections) =>
        result.Peers.SelectMany(p => p.Runs.Select((r, i) => (p.Peer, Run: i + 1, Failed: r?.GetValueOrDefault(EchoLoopMeasure.Failed) ?? 0)))
            .Where(x => x.Failed > 0)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{Peers.Name(x.Peer)}, run {x.Run}: {x.Failed:F0} of {connections} connections failed during the run (closed, wrong echo or none in time)"));
}
