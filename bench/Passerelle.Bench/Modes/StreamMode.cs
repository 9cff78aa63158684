using System.CommandLine;
using System.Globalization;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>stream</c>: WebSocket throughput with large messages. A few connections each send a 1 MiB binary message and
/// wait for its echo, in a loop, through each peer in turn. Target (issue 6): Passerelle's MiB/s within 5% of no proxy.
/// </summary>
internal static class StreamMode
{
    private const int MessageBytes = 1 << 20;
    private const double TargetShare = 0.95;
    private const string Throughput = "mib_per_s";

    private static readonly Column MiBs = new(Throughput, "MiB/s echoed", 1, Better.Higher, Ratio: true);

    public static Command Create()
    {
        var options = new ComparisonOptions();
        var connections = new Option<int>("--connections") { Description = "WebSockets, each with one 1 MiB message in flight.", HelpName = "C", DefaultValueFactory = _ => 4 };
        var duration = new Option<int>("--duration") { Description = "Seconds measured per peer and run, after the warm-up.", HelpName = "SECONDS", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of streaming before the measure, not counted.", HelpName = "SECONDS", DefaultValueFactory = _ => Warmup.DefaultSeconds };
        connections.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 64) r.AddError("--connections must be 1 to 64"); });
        duration.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 600) r.AddError("--duration must be 1 to 600 seconds"); });
        warmup.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 60) r.AddError("--warmup must be 0 to 60 seconds"); });

        var command = new Command("stream", "WebSocket throughput, 1 MiB binary messages: no proxy, Passerelle, nginx, HAProxy, minimal YARP.")
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
                await Console.Error.WriteLineAsync("bench stream: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ComparisonSettings settings, int connections, TimeSpan duration, TimeSpan warmup)
    {
        var payload = WebSocketFrames.Payload(MessageBytes, text: false);
        var result = await ComparisonOptions.RunAsync(settings, "stream", connections, async (context, peer) =>
        {
            var figures = await EchoLoopMeasure.RunAsync(context, peer, connections, payload, WebSocketFrames.Binary, warmup, duration, 256 * 1024);
            figures[Throughput] = figures[EchoLoopMeasure.Rate] * MessageBytes / (1 << 20);
            return figures;
        });

        var cpu = new Column(Figure.ProxyCpu, "proxy CPU µs/MiB", 0, Better.Lower, Ratio: true);
        var table = Report.PeerTable(result, MiBs, new Column(EchoLoopMeasure.P50, "round trip p50 ms", 1, Better.Lower),
            new Column(EchoLoopMeasure.P99, "round trip p99 ms", 1, Better.Lower), cpu,
            new Column(Figure.ClientCpu, "client CPU µs/MiB", 0, Better.Lower), new Column(Figure.BackendCpu, "backend CPU µs/MiB", 0, Better.Lower),
            new Column(Figure.Core0, "core 0 busy %", 0, Better.Lower), new Column(Figure.Core1, "core 1 busy %", 0, Better.Lower));

        var verdicts = new List<Verdict>();
        var passerelle = result.Peers.FirstOrDefault(p => p.Peer == Peer.Passerelle);
        var noProxy = result.Peers.FirstOrDefault(p => p.Peer == Peer.NoProxy);
        if (passerelle is not null && noProxy is not null)
        {
            var value = passerelle.Median(Throughput);
            var limit = noProxy.Median(Throughput);
            verdicts.Add(new Verdict($"MiB/s within {100 * (1 - TargetShare):F0}% of no proxy", PingPongMode.Compare(value, limit, (a, b) => a >= TargetShare * b),
                string.Create(CultureInfo.InvariantCulture, $"{Report.Number(value, 1)} against {Report.Number(limit, 1)}: {Report.Ratio(value, limit)}")));
        }

        return await Report.WriteAsync(settings, result,
            "WebSocket streaming of 1 MiB messages: Passerelle, nginx, HAProxy, minimal YARP",
            string.Create(CultureInfo.InvariantCulture, $"{connections} WebSockets, each sending a 1 MiB binary message and waiting for its echo, in a loop; the same load against the echo backend directly and through each proxy. Made by `bench/run.sh stream`."),
            [
                string.Create(CultureInfo.InvariantCulture, $"per peer and run: {connections} WebSockets, {warmup.TotalSeconds:F0} s not counted, then {duration.TotalSeconds:F0} s measured; MiB/s = echoes of messages sent in the window × 1 MiB / window (one direction; as much again flows the other way)"),
                "load: the bench's own client (`Infrastructure/WebSocketLoop.cs`), one thread, the message encoded once; every echo is compared byte for byte with the message sent; the backend reads each message whole before echoing it (gorilla's ReadMessage)",
            ],
            table, verdicts, PingPongMode.FailureNotes(result, connections), [MiBs, cpu],
            new SummaryLine(string.Create(CultureInfo.InvariantCulture, $"stream: {connections} WebSockets, 1 MiB messages, MiB/s"), Throughput, 0, "",
                "stream: proxy CPU µs per MiB"));
    }
}
