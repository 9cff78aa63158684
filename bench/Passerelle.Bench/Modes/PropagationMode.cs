using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>propagation</c>: how long an endpoint change in the manifests takes to reach routing. Two pods, one Service whose
/// EndpointSlice lists one of them; the slice is rewritten atomically to list the other, and a client polling
/// <c>GET /whoami</c> through the gateway times the first answer from the new pod. The promise: p99 at most 100 ms.
/// </summary>
internal static class PropagationMode
{
    private const double PromiseMs = 100;
    private const int StableAnswers = 20;
    private static readonly IPEndPoint PodA = new(IPAddress.Parse("127.0.9.1"), 8888);
    private static readonly IPEndPoint PodB = new(IPAddress.Parse("127.0.9.2"), 8888);

    public static Command Create()
    {
        var common = new BenchOptions();
        var changes = new Option<int>("--changes")
        {
            Description = "How many endpoint changes to measure.",
            HelpName = "N",
            DefaultValueFactory = _ => 50,
        };
        var warmup = new Option<int>("--warmup")
        {
            Description = "Changes made first and not counted (their times are still reported), so that one-off JIT work is not a sample.",
            HelpName = "N",
            DefaultValueFactory = _ => 2,
        };
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds any one wait may take (a change that does not reach routing by then is a failure).",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 10,
        };
        changes.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--changes must be at least 1"); });
        warmup.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--warmup cannot be negative"); });
        timeout.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) r.AddError("--timeout must be at least 1 second"); });

        var command = new Command("propagation", "Endpoint-propagation latency: EndpointSlice change on disk -> first request routed to the new pod.")
        {
            changes,
            warmup,
            timeout,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await RunAsync(new Settings(
                    parse.GetValue(common.Gateway)!, parse.GetValue(common.Results)!, parse.GetValue(changes), parse.GetValue(warmup),
                    TimeSpan.FromSeconds(parse.GetValue(timeout))), cancellationToken);
            }
            catch (BenchException e)
            {
                await Console.Error.WriteLineAsync("bench propagation: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.Now;
        var facts = MachineFacts.Markdown(started); // before the run: its git and dotnet processes must not disturb it
        var stem = $"{started:yyyy-MM-dd}-propagation";
        var tmp = Directory.CreateDirectory(Path.Combine(settings.Results.FullName, "tmp"));
        var work = Directory.CreateTempSubdirectory("passerelle-bench-");
        try
        {
            // The gateway watches manifests/; the new slice is written in staging/ (same file system) and renamed over.
            var manifests = Directory.CreateDirectory(Path.Combine(work.FullName, "manifests")).FullName;
            var staging = Directory.CreateDirectory(Path.Combine(work.FullName, "staging")).FullName;
            var slicePath = Path.Combine(manifests, "endpointslice.yaml");
            await File.WriteAllTextAsync(Path.Combine(manifests, "service.yaml"), ServiceYaml, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(manifests, "ingress.yaml"), IngressYaml, cancellationToken);
            await File.WriteAllTextAsync(slicePath, SliceYaml(PodA), cancellationToken);

            await using var podA = await Backend.StartAsync("pod-a", PodA);
            await using var podB = await Backend.StartAsync("pod-b", PodB);
            var logPath = Path.Combine(tmp.FullName, stem + "-gateway.log");
            await using var gateway = GatewayProcess.Start(settings.Gateway, manifests, logPath);
            await gateway.WaitReadyAsync(TimeSpan.FromSeconds(30));

            using var client = new HttpClient(new SocketsHttpHandler
            {
                UseProxy = false,
                PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
                PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            })
            { Timeout = settings.Timeout };
            var whoami = new Uri(gateway.Http, "whoami");
            var poller = new Poller(client, whoami, settings.Timeout);

            if (!(await poller.WaitStableAsync(podA.Name, seen: false, cancellationToken)).Stable)
            {
                throw new BenchException($"the gateway did not route steadily to pod-a at start; its last lines:\n{gateway.Tail()}");
            }

            var generation = (await gateway.WaitForGenerationsAfterAsync(0, settings.Timeout)).Select(a => a.Generation).DefaultIfEmpty(0).Max();
            var samples = new List<ChangeSample>();
            var current = podA;
            var total = settings.Warmup + settings.Changes;
            string? stopped = null;
            for (var i = 0; i < total; i++)
            {
                var target = current == podA ? podB : podA;
                var staged = Path.Combine(staging, "endpointslice.yaml");
                await File.WriteAllTextAsync(staged, SliceYaml(target.EndPoint), cancellationToken);
                // t0 is taken just before the rename, not after: the gateway wakes on the rename's inotify event while the
                // call returns, and on a busy 2-core machine the call was seen to return tens of ms later. From before, a
                // sample is an upper bound; the CSV keeps the call's duration (move_ms) for the lower bound.
                var t0Clock = DateTime.Now; // the gateway's log times are local wall-clock times
                var t0 = Stopwatch.GetTimestamp();
                File.Move(staged, slicePath, overwrite: true);
                var moveMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;

                var reached = await poller.PollUntilAsync(target.Name, t0, cancellationToken);
                var stable = await poller.WaitStableAsync(target.Name, seen: reached.LatencyMs is not null, cancellationToken);
                var applied = await gateway.WaitForGenerationsAfterAsync(generation, reached.LatencyMs is null ? TimeSpan.FromSeconds(1) : settings.Timeout);
                generation = applied.Select(a => a.Generation).DefaultIfEmpty(generation).Max();
                samples.Add(new ChangeSample(i + 1, i < settings.Warmup, current.Name, target.Name, moveMs, reached.LatencyMs, reached.Polls,
                    reached.Errors + stable.Errors, stable.Flaps, applied.Count == 0 ? null : applied[0].ElapsedMs,
                    applied.Count == 0 ? null : applied[0].MillisecondsAfter(t0Clock), applied.Count));
                current = target;

                if ((i + 1) % 10 == 0 || i + 1 == total)
                {
                    await Console.Error.WriteLineAsync($"bench propagation: {i + 1}/{total} changes");
                }

                if (!stable.Stable)
                {
                    stopped = $"stopped after change {i + 1}: the gateway did not route steadily to {target.Name} within {settings.Timeout.TotalSeconds:F0} s" +
                        (gateway.HasExited ? " (the gateway exited)" : "");
                    break;
                }

                // Let the watcher's settle window and the gateway's background work end before the next change.
                await Task.Delay(100, cancellationToken);
            }

            var report = Report(settings, facts, gateway, samples, stopped, poller, stem);
            var reportPath = Path.Combine(settings.Results.FullName, stem + ".md");
            await File.WriteAllTextAsync(reportPath, report.Markdown, CancellationToken.None);
            await File.WriteAllTextAsync(Path.Combine(tmp.FullName, stem + "-samples.csv"), Csv(samples), CancellationToken.None);
            await File.WriteAllTextAsync(Path.Combine(tmp.FullName, stem + ".summary.md"), report.Summary, CancellationToken.None); // for bench/run.sh all
            Console.WriteLine(report.Table);
            Console.WriteLine(report.Verdict);
            Console.WriteLine($"report: {Path.GetRelativePath(Environment.CurrentDirectory, reportPath)}");
            return report.PromiseMet ? 0 : 3;
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

    private static (string Markdown, string Table, string Verdict, bool PromiseMet, string Summary) Report(Settings settings, string facts,
        GatewayProcess gateway, List<ChangeSample> samples, string? stopped, Poller poller, string stem)
    {
        var measured = samples.Where(s => !s.Warmup).ToList();
        var notRun = settings.Changes - measured.Count;
        var latencies = measured.Where(s => s.LatencyMs is not null).Select(s => s.LatencyMs!.Value).ToList();
        var endToEnd = Stats.Of(latencies, measured.Count(s => s.LatencyMs is null) + notRun);
        var applies = measured.Where(s => s.ApplyMs is not null).Select(s => s.ApplyMs!.Value).ToList();
        var apply = Stats.Of(applies, measured.Count(s => s.ApplyMs is null) + notRun);
        var published = Stats.Of(measured.Where(s => s.PublishedMs is not null).Select(s => s.PublishedMs!.Value).ToList(),
            measured.Count(s => s.PublishedMs is null) + notRun);
        var promiseMet = endToEnd.Failures == 0 && endToEnd.Count > 0 && endToEnd.P99 <= PromiseMs;
        var verdict = promiseMet ? "yes" : endToEnd.Failures > 0 ? $"NO ({endToEnd.Failures} failed)" : "NO";
        var table = Stats.Table("p99 ≤ 100 ms",
            ("change → first answer from the new pod (end to end)", endToEnd, verdict),
            ("change → gateway published it (its log line's time, ±1 ms)", published, "-"),
            ("gateway apply: load + translate + publish (its log)", apply, "-"),
            ("one GET /whoami through the gateway (poll resolution)", Stats.Of(poller.RoundTrips, 0), "-"));

        var gatewayCommand = gateway.CommandLine.Replace(settings.Gateway.FullName,
            Path.GetRelativePath(BenchOptions.RepositoryRoot, settings.Gateway.FullName), StringComparison.Ordinal);
        var warm = samples.Where(s => s.Warmup).Select(s => s.LatencyMs is null ? "timeout" : Stats.Ms(s.LatencyMs.Value) + " ms").ToList();
        var text = new StringBuilder();
        text.AppendLine("# Endpoint-propagation latency (manifest mode)");
        text.AppendLine();
        text.AppendLine("The EndpointSlice of Service `web` is rewritten atomically (written aside, renamed over) to list only the other pod;");
        text.AppendLine("the time measured runs from just before the rename to the first `GET /whoami` answered by the new pod through the gateway,");
        text.AppendLine("polled in a tight loop on one keep-alive connection. Promise: p99 ≤ 100 ms. Made by `bench/run.sh propagation`.");
        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        text.Append(facts);
        text.AppendLine();
        text.AppendLine("## Run");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- changes measured: {measured.Count} of {settings.Changes}, after {settings.Warmup} warm-up change(s) not counted; every wait bounded by {settings.Timeout.TotalSeconds:F0} s");
        text.AppendLine(CultureInfo.InvariantCulture, $"- pods: pod-a {PodA}, pod-b {PodB} (Kestrel, in the bench process); gateway: `{gatewayCommand}`");
        text.AppendLine(CultureInfo.InvariantCulture, $"- raw data (not committed): `bench/results/tmp/{stem}-samples.csv`, `bench/results/tmp/{stem}-gateway.log`");
        text.AppendLine("- percentiles are nearest-rank: with 50 samples, p99 is the largest one");
        text.AppendLine();
        text.AppendLine("## Results");
        text.AppendLine();
        text.Append(table);
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- p99 ≤ 100 ms: **{verdict}**");
        if (warm.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- warm-up changes (not counted): {string.Join(", ", warm)}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"- polls per change: median {Median(measured.Select(s => (double)s.Polls)):F0}; " +
            $"error answers (non-2xx or connection errors) during changes: {measured.Sum(s => s.Errors)}; " +
            $"answers from the old pod after the new one had answered: {measured.Sum(s => s.Flaps)}");
        var slowMove = measured.Count == 0 ? 0 : measured.Max(s => s.MoveMs);
        text.AppendLine(CultureInfo.InvariantCulture, $"- t0 is taken just before the rename call, so each sample is an upper bound; the call itself " +
            $"took {Median(measured.Select(s => s.MoveMs)):F2} ms at the median and {slowMove:F2} ms at most (`move_ms` in the raw data)");
        var extra = measured.Count(s => s.Generations > 1);
        if (extra > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- changes that gave more than one configuration generation: {extra}");
        }

        if (stopped is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- **{stopped}**");
        }

        // Only Passerelle is measured here: the peers take an endpoint change through a config reload.
        var summary = $"| propagation: endpoint change → routing, p50 / p99 ms | - | {Stats.Ms(endToEnd.P50)} / {Stats.Ms(endToEnd.P99)} | - | - | - | {(promiseMet ? "yes" : "no")}: p99 ≤ 100 ms |\n";
        return (text.ToString(), table, $"p99 ≤ 100 ms: {verdict}" + (stopped is null ? "" : $" ({stopped})"), promiseMet, summary);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : Stats.Percentile(sorted, 50);
    }

    private static string Csv(IEnumerable<ChangeSample> samples)
    {
        var text = new StringBuilder("change,warmup,from,to,move_ms,latency_ms,polls,errors,flaps,apply_ms,published_ms,generations\n");
        foreach (var s in samples)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{s.Index},{s.Warmup},{s.From},{s.To},{s.MoveMs.ToString("F3", CultureInfo.InvariantCulture)},{s.LatencyMs?.ToString("F3", CultureInfo.InvariantCulture)},{s.Polls},{s.Errors},{s.Flaps},{s.ApplyMs?.ToString("F1", CultureInfo.InvariantCulture)},{s.PublishedMs?.ToString("F1", CultureInfo.InvariantCulture)},{s.Generations}");
        }

        return text.ToString();
    }

    private const string ServiceYaml = """
        apiVersion: v1
        kind: Service
        metadata:
          name: web
        spec:
          ports:
            - port: 80
              targetPort: 8888

        """;

    private const string IngressYaml = """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: web
          annotations:
            kubernetes.io/ingress.class: azure/application-gateway
            appgw.ingress.kubernetes.io/health-probe-path: /health
        spec:
          rules:
            - http:
                paths:
                  - path: /
                    pathType: Prefix
                    backend:
                      service:
                        name: web
                        port:
                          number: 80

        """;

    private static string SliceYaml(IPEndPoint pod) => $$"""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-slice
          labels:
            kubernetes.io/service-name: web
        addressType: IPv4
        ports:
          - port: {{pod.Port}}
        endpoints:
          - addresses: ["{{pod.Address}}"]
            conditions:
              ready: true

        """;

    private sealed record Settings(FileInfo Gateway, DirectoryInfo Results, int Changes, int Warmup, TimeSpan Timeout);

    /// <summary>One change. <paramref name="MoveMs"/>: how long the rename call took (t0 is taken before it).</summary>
    private sealed record ChangeSample(int Index, bool Warmup, string From, string To, double MoveMs, double? LatencyMs, int Polls, int Errors, int Flaps,
        double? ApplyMs, double? PublishedMs, int Generations);

    /// <summary>Asks <c>GET /whoami</c> through the gateway, as fast as answers come, on one keep-alive connection.</summary>
    private sealed class Poller(HttpClient client, Uri whoami, TimeSpan timeout)
    {
        /// <summary>Round trips of the polls made while waiting for stability: the measurement's resolution.</summary>
        public List<double> RoundTrips { get; } = [];

        /// <summary>Polls until <paramref name="name"/> answers; the latency is from <paramref name="t0"/> to that answer.</summary>
        public async Task<(double? LatencyMs, int Polls, int Errors)> PollUntilAsync(string name, long t0, CancellationToken cancellationToken)
        {
            var polls = 0;
            var errors = 0;
            while (true)
            {
                var answer = await AskAsync(cancellationToken);
                var now = Stopwatch.GetTimestamp();
                polls++;
                if (answer == name)
                {
                    return (Stopwatch.GetElapsedTime(t0, now).TotalMilliseconds, polls, errors);
                }

                if (answer is null)
                {
                    errors++;
                }

                if (Stopwatch.GetElapsedTime(t0, now) > timeout)
                {
                    return (null, polls, errors);
                }
            }
        }

        /// <summary>Polls until <see cref="StableAnswers"/> answers in a row come from <paramref name="name"/>.</summary>
        /// <param name="seen">Whether it has answered already: any other pod's answer is then a flap.</param>
        public async Task<(bool Stable, int Errors, int Flaps)> WaitStableAsync(string name, bool seen, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var inARow = 0;
            var errors = 0;
            var flaps = 0;
            while (inARow < StableAnswers)
            {
                if (Stopwatch.GetElapsedTime(started) > timeout)
                {
                    return (false, errors, flaps);
                }

                var before = Stopwatch.GetTimestamp();
                var answer = await AskAsync(cancellationToken);
                RoundTrips.Add(Stopwatch.GetElapsedTime(before).TotalMilliseconds);
                if (answer == name)
                {
                    seen = true;
                    inARow++;
                    continue;
                }

                errors += answer is null ? 1 : 0;
                flaps += seen && answer is not null ? 1 : 0;
                inARow = 0;
            }

            return (true, errors, flaps);
        }

        /// <summary>The pod's name, or null for an error answer or a failed request.</summary>
        private async Task<string?> AskAsync(CancellationToken cancellationToken)
        {
            try
            {
                using var response = await client.GetAsync(whoami, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                return response.IsSuccessStatusCode ? body : null;
            }
            catch (HttpRequestException)
            {
                return null;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null; // the client's timeout
            }
        }
    }
}
