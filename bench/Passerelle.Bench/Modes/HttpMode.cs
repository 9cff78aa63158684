using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>http</c>: plain HTTP/1.1 GET requests with keep-alive through each peer, driven by wrk (Debian's package) on
/// core 1 against the echo backend's <c>/hello</c>. Target (issue 6): requests/s at least 1.1× the best peer's.
/// </summary>
internal static partial class HttpMode
{
    private const double TargetRatio = 1.1;
    private const string Rate = "requests_per_s";
    private const string P50 = "p50_ms";
    private const string P99 = "p99_ms";
    private const string Errors = "errors";

    private static readonly Column RateColumn = new(Rate, "requests/s", 0, Better.Higher, Ratio: true);
    private static readonly Column CpuColumn = new(Figure.ProxyCpu, "proxy CPU µs/request", 1, Better.Lower, Ratio: true);

    public static Command Create()
    {
        var options = new ComparisonOptions();
        var connections = new Option<int>("--connections") { Description = "wrk's keep-alive connections.", HelpName = "C", DefaultValueFactory = _ => 100 };
        var duration = new Option<int>("--duration") { Description = "Seconds measured per peer and run, after the warm-up.", HelpName = "SECONDS", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Seconds of wrk before the measure, not counted.", HelpName = "SECONDS", DefaultValueFactory = _ => Warmup.DefaultSeconds };
        var wrk = new Option<string>("--wrk") { Description = "The wrk program.", HelpName = "PATH", DefaultValueFactory = _ => "wrk" };
        connections.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 5000) r.AddError("--connections must be 1 to 5000"); });
        duration.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 600) r.AddError("--duration must be 1 to 600 seconds"); });
        warmup.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 60) r.AddError("--warmup must be 0 to 60 seconds"); });

        var command = new Command("http", "HTTP/1.1 GET requests/s with wrk: no proxy, Passerelle, nginx, HAProxy, minimal YARP.")
        {
            connections, duration, warmup, wrk,
        };
        options.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            try
            {
                return await RunAsync(options.Settings(parse), parse.GetValue(wrk)!, parse.GetValue(connections), parse.GetValue(duration), parse.GetValue(warmup));
            }
            catch (BenchException e)
            {
                await Console.Error.WriteLineAsync("bench http: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ComparisonSettings settings, string wrk, int connections, int duration, int warmup)
    {
        var result = await ComparisonOptions.RunAsync(settings, "http", connections, async (context, peer) =>
        {
            var url = $"http://127.0.0.1:{peer.Port}/hello";
            if (warmup > 0)
            {
                await WrkAsync(wrk, connections, warmup, url);
            }

            var cpu = CpuWindow.Start(context, peer);
            var output = await WrkAsync(wrk, connections, duration, url);
            cpu.End();
            var figures = Parse(output);
            cpu.AddTo(figures, figures[Rate] * duration);
            return figures;
        });

        var table = Report.PeerTable(result, RateColumn, new Column(P50, "p50 ms", 2, Better.Lower), new Column(P99, "p99 ms", 2, Better.Lower), CpuColumn,
            new Column(Figure.ClientCpu, "client (wrk) CPU µs/request", 1, Better.Lower), new Column(Figure.BackendCpu, "backend CPU µs/request", 1, Better.Lower),
            new Column(Figure.Core0, "core 0 busy %", 0, Better.Lower), new Column(Figure.Core1, "core 1 busy %", 0, Better.Lower),
            new Column(Errors, "errors", 0, Better.Lower));

        var verdicts = new List<Verdict>();
        var passerelle = result.Peers.FirstOrDefault(p => p.Peer == Peer.Passerelle);
        if (passerelle is not null)
        {
            var rate = passerelle.Median(Rate);
            var best = Report.Best(result, Rate, Better.Higher);
            verdicts.Add(new Verdict($"requests/s ≥ {TargetRatio:F1}× the best peer", PingPongMode.Compare(rate, best, (a, b) => a >= TargetRatio * b),
                string.Create(CultureInfo.InvariantCulture, $"{Report.Number(rate, 0)} against {Report.Number(best, 0)} for {Report.BestName(result, Rate, Better.Higher)}: {Report.Ratio(rate, best)}")));
        }

        var notes = result.Peers.SelectMany(p => p.Runs.Select((r, i) => (p.Peer, Run: i + 1, Errors: r?.GetValueOrDefault(Errors) ?? 0)))
            .Where(x => x.Errors > 0)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{Peers.Name(x.Peer)}, run {x.Run}: {x.Errors:F0} errors (socket errors or answers other than 2xx/3xx, as wrk counts them)"));

        return await Report.WriteAsync(settings, result,
            "HTTP GET through each peer: Passerelle, nginx, HAProxy, minimal YARP",
            string.Create(CultureInfo.InvariantCulture, $"wrk with {connections} keep-alive connections sending `GET /hello` (a 28-byte text answer from the Go backend's net/http) through each peer. Made by `bench/run.sh http`."),
            [
                string.Create(CultureInfo.InvariantCulture, $"per peer and run: `wrk -t1 -c{connections} -d{warmup}s` not counted, then `wrk -t1 -c{connections} -d{duration}s --latency` measured; wrk runs on core 1 beside the backend"),
                "HTTP/1.1 only (wrk does not speak HTTP/2); nginx keeps connections to the backend alive (`keepalive 64`, the Connection header cleared for requests that do not upgrade), HAProxy and the .NET peers do by default",
                "percentiles are wrk's (its latency distribution; wrk does not correct for coordinated omission)",
            ],
            table, verdicts, notes, [RateColumn, CpuColumn],
            new SummaryLine(string.Create(CultureInfo.InvariantCulture, $"http: GET requests/s ({connections} connections)"), Rate, 0, "",
                "http: proxy CPU µs per request"));
    }

    private static async Task<string> WrkAsync(string wrk, int connections, int seconds, string url)
    {
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo(wrk,
                ["-t1", $"-c{connections}", $"-d{seconds}s", "--latency", "--timeout", "5s", url])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            }) ?? throw new BenchException("could not start wrk");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BenchException($"could not start {wrk} (bench/run.sh installs Debian's wrk): {e.Message}");
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 30));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                throw new BenchException("wrk did not finish in time");
            }

            if (process.ExitCode != 0)
            {
                throw new BenchException($"wrk exited with code {process.ExitCode}: {(await error).Trim()}");
            }

            return await output;
        }
    }

    private static Figures Parse(string output)
    {
        var rate = RequestsPerSecond().Match(output);
        if (!rate.Success)
        {
            throw new BenchException("no Requests/sec in wrk's output: " + output);
        }

        var figures = new Figures
        {
            [Rate] = double.Parse(rate.Groups[1].Value, CultureInfo.InvariantCulture),
            [P50] = LatencyMs(output, "50%"),
            [P99] = LatencyMs(output, "99%"),
        };
        var errors = 0.0;
        var non2xx = Non2xx().Match(output);
        if (non2xx.Success)
        {
            errors += double.Parse(non2xx.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        var sockets = SocketErrors().Match(output);
        if (sockets.Success)
        {
            errors += Enumerable.Range(1, 4).Sum(i => double.Parse(sockets.Groups[i].Value, CultureInfo.InvariantCulture));
        }

        figures[Errors] = errors;
        return figures;
    }

    /// <summary>A line of wrk's latency distribution, such as "     99%    3.21ms", in milliseconds.</summary>
    private static double LatencyMs(string output, string percentile)
    {
        var match = Regex.Match(output, @"^\s*" + Regex.Escape(percentile) + @"\s+([0-9.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!match.Success)
        {
            return double.NaN;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "us" => value / 1000,
            "s" => value * 1000,
            _ => value,
        };
    }

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xx();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
