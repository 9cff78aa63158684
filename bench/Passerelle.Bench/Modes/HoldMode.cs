using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>hold</c>: memory per idle proxied WebSocket. C WebSockets are opened through each peer, from source addresses
/// spread over 127.0.x.y, and left idle; the proxy's resident memory (VmRSS) is read once a tenth of them is held
/// (what the first WebSockets cost once, code and pools, is the peer's fixed cost) and again with all held, and the
/// difference divided by the other nine tenths. For .NET peers the live GC heap is read too (dotnet-gcdump, which forces a full GC, after
/// which the RSS is read again). Then one echo on every connection: all must answer.
/// Targets (issue 6): at most 4 KiB per idle proxied WebSocket; 10,000 held connections all echo.
/// </summary>
internal static class HoldMode
{
    private const double TargetKiB = 4.0;
    private const int Wanted = 10_000;
    private const int ConnectConcurrency = 100;
    private const int WarmShare = 10; // a tenth of the connections is opened before the baseline
    private const string Rss = "rss_kib";
    private const string RssForced = "rss_forced_kib";
    private const string Heap = "heap_kib";
    private const string RssBefore = "rss_before_mib";
    private const string OpenCpu = "open_cpu_us";
    private const string OpenRate = "opened_per_s";
    private const string IdleCpu = "idle_cpu_ms";
    private const string Answered = "answered";

    private static readonly Column RssColumn = new(Rss, "RSS KiB per connection", 1, Better.Lower, Ratio: true);

    /// <summary>
    /// Each proxied WebSocket takes two descriptors in the proxy; the margin is for its other files (an idle .NET
    /// peer has about 215 open: its assemblies, pipes, listeners).
    /// </summary>
    private static int MaxConnections => Math.Max(1, (ProcFs.OpenFilesHardLimit() - 500) / 2);

    public static Command Create()
    {
        var options = new ComparisonOptions();
        var connections = new Option<int>("--connections")
        {
            Description = $"Idle WebSockets held open at once through each peer (default {Wanted:N0}, or the most the open-file hard limit allows).",
            HelpName = "C",
            DefaultValueFactory = _ => Math.Min(Wanted, MaxConnections),
        };
        var settle = new Option<int>("--settle") { Description = "Seconds idle after the last connection opened, before reading the memory.", HelpName = "SECONDS", DefaultValueFactory = _ => 3 };
        var gcdump = new Option<FileInfo>("--gcdump")
        {
            Description = "dotnet-gcdump, for the live GC heap of .NET peers (installed by bench/run.sh; without it those columns are empty).",
            HelpName = "PATH",
            DefaultValueFactory = _ => new FileInfo(Path.Combine(BenchOptions.RepositoryRoot, "bench", "results", "tmp", "tools", "dotnet-gcdump")),
        };
        connections.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1 || r.GetValueOrDefault<int>() > MaxConnections)
            {
                r.AddError($"--connections must be 1 to {MaxConnections}: a proxy holds 2 descriptors per connection, under an open-file hard limit of {ProcFs.OpenFilesHardLimit()}");
            }
        });
        settle.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 120) r.AddError("--settle must be 0 to 120 seconds"); });

        var command = new Command("hold", "Memory per idle WebSocket held open, then one echo each: no proxy, Passerelle, nginx, HAProxy, minimal YARP.")
        {
            connections, settle, gcdump,
        };
        options.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            try
            {
                return await RunAsync(options.Settings(parse), parse.GetValue(connections), TimeSpan.FromSeconds(parse.GetValue(settle)), parse.GetValue(gcdump)!);
            }
            catch (BenchException e)
            {
                await Console.Error.WriteLineAsync("bench hold: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ComparisonSettings settings, int connections, TimeSpan settle, FileInfo gcdump)
    {
        var result = await ComparisonOptions.RunAsync(settings, "hold", connections, (context, peer) => MeasureAsync(context, peer, connections, settle, gcdump));

        var heapColumn = new Column(Heap, "GC heap KiB per connection", 1, Better.Lower);
        var table = Report.PeerTable(result, new Column(RssBefore, "RSS with a tenth held MiB", 1, Better.Lower), RssColumn,
            new Column(RssForced, "RSS KiB per connection after a forced GC", 1, Better.Lower), heapColumn,
            new Column(OpenRate, "opened/s", 0, Better.Higher), new Column(OpenCpu, "proxy CPU µs per open", 0, Better.Lower, Ratio: true),
            new Column(IdleCpu, "proxy CPU ms while idle", 0, Better.Lower), new Column(Answered, "echoes answered", 0, Better.Higher));

        var verdicts = new List<Verdict>();
        var passerelle = result.Peers.FirstOrDefault(p => p.Peer == Peer.Passerelle);
        if (passerelle is not null)
        {
            var kib = passerelle.Median(Rss);
            verdicts.Add(new Verdict($"≤ {TargetKiB:F0} KiB per idle proxied WebSocket (RSS)", PingPongMode.Compare(kib, TargetKiB, (a, b) => a <= b),
                string.Create(CultureInfo.InvariantCulture, $"{Report.Number(kib, 1)} KiB; best peer {Report.BestName(result, Rss, Better.Lower)} {Report.Number(Report.Best(result, Rss, Better.Lower), 1)} KiB")));
            var answered = passerelle.Runs.Where(r => r is not null).Select(r => r![Answered]).DefaultIfEmpty(double.NaN).Min();
            verdicts.Add(new Verdict(string.Create(CultureInfo.InvariantCulture, $"all {connections:N0} held connections echo"),
                double.IsNaN(answered) ? null : answered >= connections,
                string.Create(CultureInfo.InvariantCulture, $"fewest in a run: {Report.Number(answered, 0)}")));
        }

        var notes = new List<string>();
        if (connections < Wanted)
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{connections:N0} connections, not {Wanted:N0}: this machine's open-file hard limit is {ProcFs.OpenFilesHardLimit():N0} and cannot be raised here (no CAP_SYS_RESOURCE); a proxy needs 2 descriptors per proxied WebSocket plus its own files"));
        }

        notes.AddRange(result.Peers.SelectMany(p => p.Runs.Select((r, i) => (p.Peer, Run: i + 1, Answered: r?.GetValueOrDefault(Answered) ?? connections)))
            .Where(x => x.Answered < connections)
            .Select(x => string.Create(CultureInfo.InvariantCulture, $"{Peers.Name(x.Peer)}, run {x.Run}: {connections - x.Answered:F0} of {connections} connections did not echo (closed, wrong echo or none within 60 s)")));

        return await Report.WriteAsync(settings, result,
            "Idle WebSockets held open: memory per connection, Passerelle, nginx, HAProxy, minimal YARP",
            string.Create(CultureInfo.InvariantCulture, $"{connections:N0} idle WebSockets opened through each peer; the resident memory (VmRSS) of the proxy's process before and after, per connection; then one echo on each. Made by `bench/run.sh hold`."),
            [
                string.Create(CultureInfo.InvariantCulture, $"per peer and run: {connections / WarmShare:N0} WebSockets opened and {settle.TotalSeconds:F0} s idle, then the proxy's RSS read (the baseline; for .NET peers after a forced GC, see below): what the first connections cost once (code loaded and compiled, pools and tables grown) is the peer's fixed cost, in the \"RSS with a tenth held\" column; then the other {connections - connections / WarmShare:N0} opened ({ConnectConcurrency} handshakes at a time), {settle.TotalSeconds:F0} s idle, RSS read again with nothing forced; RSS KiB per connection = (after - baseline) / {connections - connections / WarmShare:N0}. Before 2026-11-25 evening the baseline was read before any connection, which charged the fixed cost to the connections (Passerelle's figure then included about 3 KiB of it)"),
                "client source addresses spread over 127.0.x.y: connection i binds 127.0.(1 + i/250).(1 + i%250), so that no address runs short of ephemeral ports",
                "process measured: Passerelle's and minimal YARP's dotnet process, nginx's one worker, HAProxy's single process; no proxy has no process to measure (its limit is 0 KiB): its row only shows that the load opens and echoes every connection",
                ".NET peers: `dotnet-gcdump collect` at the baseline and after the idle period makes the runtime run a full blocking GC and reports the live heap; \"GC heap KiB per connection\" is the difference of the live heaps / C, \"RSS after a forced GC\" the difference of the RSS read right after each dump / C. The plain RSS column is read before the second dump, with whatever garbage was there",
                "proxy CPU µs per open: the proxy's CPU time while the connections opened, per connection; CPU while idle: over the idle period; then every connection sends its own text message at once and the echoes are counted for up to 60 s",
            ],
            table, verdicts, notes, [RssColumn, heapColumn, new Column(Answered, "echoes answered", 0, Better.Higher)],
            new SummaryLine(string.Create(CultureInfo.InvariantCulture, $"hold: KiB of RSS per idle WebSocket ({connections:N0})"), Rss, 1, "",
                "hold: proxy CPU µs per WebSocket opened", OpenCpu));
    }

    private static async Task<Figures> MeasureAsync(ModeContext context, RunningPeer peer, int connections, TimeSpan settle, FileInfo gcdump)
    {
        // No proxy holds nothing: that row only checks that the load opens and echoes every connection. (The shared
        // backend's RSS is no reference either: it keeps what earlier peers' runs left in its heap.)
        var pid = peer.ProxyPid;
        var dotnet = Peers.IsDotnet(peer.Peer);
        var figures = new Figures();
        var sockets = Enumerable.Range(0, connections).Select(i => new RawConnection(i)).ToArray();
        var driver = new HoldDriver();
        var loop = new WebSocketLoop(peer.EndPoint, sockets, driver);
        try
        {
            // The baseline is read with a tenth of the connections already held: what the first WebSockets cost once
            // (code loaded and compiled, pools and tables grown) is the peer's fixed cost, not each WebSocket's.
            var warm = connections / WarmShare;
            await Task.Factory.StartNew(() => driver.OpenAll(loop, sockets[..warm], ConnectConcurrency, TimeSpan.FromSeconds(120)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            await Task.Delay(settle);
            var heapBefore = dotnet && pid is { } p ? await GcDump.LiveHeapKiBAsync(gcdump, p, context.Tmp, context.Stem) : double.NaN;
            var before = pid is { } q ? ProcFs.RssKiB(q) : 0;
            figures[RssBefore] = pid is null ? double.NaN : before / 1024.0;
            var measured = connections - warm;

            var cpuBefore = pid is { } a ? ProcFs.CpuSeconds(a) : double.NaN;
            var started = Stopwatch.GetTimestamp();
            await Task.Factory.StartNew(() => driver.OpenAll(loop, sockets[warm..], ConnectConcurrency, TimeSpan.FromSeconds(120), firstIndex: warm),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            figures[OpenRate] = measured / Stopwatch.GetElapsedTime(started).TotalSeconds;
            var cpuOpened = pid is { } b ? ProcFs.CpuSeconds(b) : double.NaN;
            figures[OpenCpu] = (cpuOpened - cpuBefore) * 1e6 / measured;

            await Task.Delay(settle);
            if (pid is { } proxy)
            {
                figures[IdleCpu] = (ProcFs.CpuSeconds(proxy) - cpuOpened) * 1e3;
                figures[Rss] = (ProcFs.RssKiB(proxy) - before) / (double)measured;
                if (dotnet)
                {
                    var heapAfter = await GcDump.LiveHeapKiBAsync(gcdump, proxy, context.Tmp, context.Stem);
                    figures[Heap] = (heapAfter - heapBefore) / measured;
                    figures[RssForced] = (ProcFs.RssKiB(proxy) - before) / (double)measured;
                }
            }

            await Task.Factory.StartNew(() => driver.EchoAll(loop, sockets, TimeSpan.FromSeconds(60)),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            figures[Answered] = driver.Answered;
            if (driver.Answered < connections)
            {
                await Console.Error.WriteLineAsync($"bench hold: {Peers.Name(peer.Peer)}: {connections - driver.Answered} of {connections} did not echo; first failure: {driver.FirstFailure ?? "none (no answer in time)"}");
            }

            return figures;
        }
        finally
        {
            loop.Dispose();
        }
    }
}
