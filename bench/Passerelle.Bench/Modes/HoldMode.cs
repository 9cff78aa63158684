using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>hold</c>: memory per idle proxied WebSocket. C WebSockets are opened through each target (the echo backend
/// directly, Passerelle, nginx, HAProxy) and left idle; the proxy process's resident memory (VmRSS) is read before
/// opening and after a settle period, and the difference divided by C. Then one echo on each connection checks that
/// none was dropped. Each proxy is pinned to core 0 (<c>taskset -c 0</c>), the bench process to core 1.
/// </summary>
internal static class HoldMode
{
    /// <summary>Passerelle's target (issue "Performance: ahead of nginx and HAProxy"): no more than HAProxy.</summary>
    private const double TargetKiB = 4.0;
    private const int MaxConnections = 9000; // 2 sockets per connection in the proxy, under its open-file hard limit of 20,000
    private const int ConnectConcurrency = 64;
    private static readonly string[] PinProxy = ["taskset", "-c", "0"];

    public static Command Create()
    {
        var common = new BenchOptions();
        var connections = new Option<int>("--connections")
        {
            Description = "Idle WebSockets held open at once through each target.",
            HelpName = "C",
            DefaultValueFactory = _ => 2000,
        };
        var settle = new Option<int>("--settle")
        {
            Description = "Seconds to wait after the last connection opened before reading the memory again.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 3,
        };
        connections.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > MaxConnections)
            {
                r.AddError($"--connections must be 1 to {MaxConnections} (a proxy holds 2 sockets per connection, under an open-file limit of 20,000)");
            }
        });
        settle.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 120) r.AddError("--settle must be 0 to 120 seconds"); });

        var command = new Command("hold", "Memory per idle WebSocket held open: direct, Passerelle, nginx, HAProxy.")
        {
            connections,
            settle,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await RunAsync(new Settings(parse.GetValue(common.Gateway)!, parse.GetValue(common.Results)!, parse.GetValue(connections),
                    TimeSpan.FromSeconds(parse.GetValue(settle))), cancellationToken);
            }
            catch (BenchException e)
            {
                await Console.Error.WriteLineAsync("bench hold: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.Now;
        var facts = MachineFacts.Markdown(started);
        var stem = $"{started:yyyy-MM-dd}-hold";
        var tmp = Directory.CreateDirectory(Path.Combine(settings.Results.FullName, "tmp")).FullName;
        var work = Directory.CreateTempSubdirectory("passerelle-bench-");
        try
        {
            await using var backend = await EchoBackend.StartAsync(new IPEndPoint(IPAddress.Loopback, GatewayProcess.FreePort()));
            var upstream = backend.EndPoint;
            var rows = new List<Row>
            {
                await MeasureAsync("echo backend directly (no proxy)", "bench process: backend and clients", settings, cancellationToken,
                    () => Task.FromResult<Started>(new(null, upstream.Port, Environment.ProcessId, "-"))),
                await MeasureAsync("Passerelle", "gateway (dotnet)", settings, cancellationToken, async () =>
                {
                    var manifests = Directory.CreateDirectory(Path.Combine(work.FullName, "manifests")).FullName;
                    await File.WriteAllTextAsync(Path.Combine(manifests, "web.yaml"), PingPongMode.ManifestYaml(upstream), cancellationToken);
                    var gateway = GatewayProcess.Start(settings.Gateway, manifests, Path.Combine(tmp, stem + "-passerelle.log"), PinProxy);
                    try
                    {
                        await gateway.WaitReadyAsync(TimeSpan.FromSeconds(30));
                    }
                    catch
                    {
                        await gateway.DisposeAsync();
                        throw;
                    }

                    var shown = gateway.CommandLine.Replace(settings.Gateway.FullName,
                        Path.GetRelativePath(BenchOptions.RepositoryRoot, settings.Gateway.FullName), StringComparison.Ordinal);
                    return new Started(gateway, gateway.HttpPort, gateway.ProcessId, shown);
                }),
                await MeasureAsync("nginx", "worker process", settings, cancellationToken, async () =>
                {
                    var peer = await StartPeerAsync(tmp, stem, "nginx", upstream, settings.Connections, NginxConf, conf => ["nginx", "-p", tmp, "-c", conf]);
                    try
                    {
                        return peer with { ProcessId = await NginxWorkerAsync(peer.ProcessId) };
                    }
                    catch
                    {
                        await peer.Process!.DisposeAsync();
                        throw;
                    }
                }),
                await MeasureAsync("HAProxy", "its single process", settings, cancellationToken,
                    () => StartPeerAsync(tmp, stem, "haproxy", upstream, settings.Connections, HaproxyCfg, conf => ["haproxy", "-db", "-f", conf])),
            };

            var report = Report(settings, facts, rows, stem);
            var reportPath = Path.Combine(settings.Results.FullName, stem + ".md");
            await File.WriteAllTextAsync(reportPath, report.Markdown, CancellationToken.None);
            Console.WriteLine(report.Table);
            Console.WriteLine($"report: {Path.GetRelativePath(Environment.CurrentDirectory, reportPath)}");
            if (rows.Any(r => r.Error is not null))
            {
                return 1;
            }

            var passerelle = rows.Single(r => r.Target == "Passerelle");
            var held = rows.All(r => r.Answered == settings.Connections) && passerelle.KiBPerConnection <= TargetKiB;
            return held ? 0 : 3;
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

    private static async Task<Started> StartPeerAsync(string tmp, string stem, string name, IPEndPoint upstream, int connections,
        Func<string, int, IPEndPoint, int, string> config, Func<string, string[]> command)
    {
        var port = GatewayProcess.FreePort();
        var conf = Path.Combine(tmp, $"{stem}-{name}.conf");
        await File.WriteAllTextAsync(conf, config(tmp, port, upstream, connections));
        var process = ExternalProcess.Start([.. PinProxy, .. command(conf)], Path.Combine(tmp, $"{stem}-{name}.log"));
        try
        {
            await process.WaitListeningAsync(port, TimeSpan.FromSeconds(15));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return new Started(process, port, process.ProcessId, process.CommandLine.Replace(BenchOptions.RepositoryRoot + "/", "", StringComparison.Ordinal));
    }

    /// <summary>The pid of nginx's worker: the one child of its master process (waits up to 5 s for it).</summary>
    private static async Task<int> NginxWorkerAsync(int master)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var children = new List<int>();
            foreach (var folder in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                {
                    continue;
                }

                try
                {
                    var stat = await File.ReadAllTextAsync(Path.Combine(folder, "stat"));
                    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (int.Parse(fields[1], CultureInfo.InvariantCulture) == master)
                    {
                        children.Add(pid);
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
                {
                    // Gone meanwhile, or not ours to read.
                }
            }

            if (children.Count == 1)
            {
                return children[0];
            }

            await Task.Delay(100);
        }

        throw new BenchException($"could not find the one worker process of nginx (master pid {master})");
    }

    private static async Task<Row> MeasureAsync(string target, string measured, Settings settings, CancellationToken cancellationToken,
        Func<Task<Started>> start)
    {
        await Console.Error.WriteLineAsync($"bench hold: {target}: {settings.Connections} idle connections, {settings.Settle.TotalSeconds:F0} s settle");
        Started? run = null;
        try
        {
            run = await start();
            var before = RssKiB(run.ProcessId);
            var (after, answered) = await HoldAsync(new Uri($"ws://127.0.0.1:{run.Port}/ws"), run.ProcessId, settings, cancellationToken);
            return new Row(target, measured, run.Command, settings.Connections, before, after, answered, null);
        }
        catch (BenchException e)
        {
            await Console.Error.WriteLineAsync($"bench hold: {target}: not measured: {e.Message}");
            return new Row(target, measured, run?.Command ?? "-", settings.Connections, 0, 0, 0, e.Message);
        }
        finally
        {
            if (run?.Process is not null)
            {
                await run.Process.DisposeAsync();
            }
        }
    }

    /// <summary>Opens every connection, waits the settle period, reads the RSS, then sends one echo on each and counts the answers.</summary>
    private static async Task<(long AfterKiB, int Answered)> HoldAsync(Uri uri, int pid, Settings settings, CancellationToken cancellationToken)
    {
        var sockets = new ClientWebSocket?[settings.Connections];
        var invokers = new HttpMessageInvoker?[settings.Connections];
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (var gate = new SemaphoreSlim(ConnectConcurrency))
            {
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(120));
                await Task.WhenAll(Enumerable.Range(0, settings.Connections).Select(async i =>
                {
                    await gate.WaitAsync(connectTimeout.Token);
                    try
                    {
                        var invoker = invokers[i] = new HttpMessageInvoker(Handler(SourceAddress(i), uri.Port));
                        var socket = sockets[i] = new ClientWebSocket();
                        socket.Options.KeepAliveInterval = TimeSpan.Zero;
                        await socket.ConnectAsync(uri, invoker, connectTimeout.Token);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException or SocketException)
        {
            await CloseAllAsync(sockets, invokers);
            throw new BenchException($"could not open {settings.Connections} WebSockets to {uri}: {e.Message}");
        }

        try
        {
            await Task.Delay(settings.Settle, cancellationToken);
            var after = RssKiB(pid);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(60)); // a lost echo must not hang the run
            var answers = await Task.WhenAll(sockets.Select((socket, i) => EchoAsync(socket!, i, timeout.Token)));
            return (after, answers.Count(a => a));
        }
        finally
        {
            await CloseAllAsync(sockets, invokers);
        }
    }

    /// <summary>127.0.(1 + i / 250).(1 + i % 250): each client address has its own ephemeral ports.</summary>
    private static IPAddress SourceAddress(int i) => new([127, 0, (byte)(1 + (i / 250)), (byte)(1 + (i % 250))]);

    private static SocketsHttpHandler Handler(IPAddress source, int port) => new()
    {
        UseProxy = false,
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private static async Task<bool> EchoAsync(ClientWebSocket socket, int i, CancellationToken cancellationToken)
    {
        var payload = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"hold {i}"));
        var buffer = new byte[256];
        try
        {
            await socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            var length = 0;
            ValueWebSocketReceiveResult received;
            do
            {
                received = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                length += received.Count;
            }
            while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close && length < buffer.Length);

            return received.MessageType == WebSocketMessageType.Text && buffer.AsSpan(0, length).SequenceEqual(payload);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            return false;
        }
    }

    private static async Task CloseAllAsync(ClientWebSocket?[] sockets, HttpMessageInvoker?[] invokers)
    {
        await Task.WhenAll(sockets.Select(socket => ChildProcesses.CloseQuietlyAsync(socket, TimeSpan.FromSeconds(5))));
        foreach (var invoker in invokers)
        {
            invoker?.Dispose();
        }
    }

    /// <summary>VmRSS of a process, in KiB, from /proc/PID/status.</summary>
    private static long RssKiB(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
                ?? throw new BenchException($"no VmRSS in /proc/{pid}/status");
            return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException e)
        {
            throw new BenchException($"cannot read the memory of process {pid}: {e.Message}");
        }
    }

    private static (string Markdown, string Table) Report(Settings settings, string facts, List<Row> rows, string stem)
    {
        var table = new StringBuilder();
        table.AppendLine("| target | process measured | connections | RSS before MiB | RSS after MiB | KiB per connection | echoes answered |");
        table.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
        {
            table.AppendLine(row.Error is not null
                ? $"| {row.Target} | {row.Measured} | {settings.Connections} | not measured | - | - | - |"
                : string.Create(CultureInfo.InvariantCulture,
                    $"| {row.Target} | {row.Measured} | {settings.Connections} | {row.BeforeKiB / 1024.0:F1} | {row.AfterKiB / 1024.0:F1} | {row.KiBPerConnection:F1} | {row.Answered} of {settings.Connections} |"));
        }

        var passerelle = rows.Single(r => r.Target == "Passerelle");
        var text = new StringBuilder();
        text.AppendLine("# Idle WebSockets held open: memory per connection, Passerelle, nginx, HAProxy");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{settings.Connections} idle WebSockets opened through each target, one target after the other; the resident memory (VmRSS) of");
        text.AppendLine("the proxy's process before opening and after a settle period, the difference per connection; then one echo on each. Made by `bench/run.sh hold`.");
        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        text.Append(facts);
        text.AppendLine();
        text.AppendLine("## Run");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- per target: RSS read once the target is ready (baseline), then {settings.Connections} WebSockets opened ({ConnectConcurrency} handshakes at a time), then {settings.Settle.TotalSeconds:F0} s of idle (nothing forced: no GC, no trim), then RSS read again; KiB per connection = (after - before) / {settings.Connections}");
        text.AppendLine("- client source addresses spread over 127.0.x.y (connection i binds 127.0.(1 + i/250).(1 + i%250)) so that no address runs out of ephemeral ports");
        text.AppendLine("- pinning: each proxy on core 0 (`taskset -c 0`); the bench process (echo backend and clients) on core 1 when run by `bench/run.sh`");
        text.AppendLine("- the direct row measures the bench process itself, which holds both ends (client and backend) of each connection: a reference, not a proxy");
        foreach (var row in rows.Where(r => r.Command != "-"))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {row.Target}: `{row.Command}`");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"- config files and logs (not committed): `bench/results/tmp/{stem}-*`");
        text.AppendLine();
        text.AppendLine("## Results");
        text.AppendLine();
        text.Append(table);
        text.AppendLine();
        if (passerelle.Error is null)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- Passerelle ≤ {TargetKiB:F0} KiB per idle proxied WebSocket (HAProxy's figure in the issue): **{(passerelle.KiBPerConnection <= TargetKiB ? "yes" : "no")}** ({passerelle.KiBPerConnection:F1} KiB)"));
        }

        foreach (var row in rows.Where(r => r.Error is not null || r.Answered != settings.Connections))
        {
            text.AppendLine(row.Error is not null
                ? $"- {row.Target}: not measured: {row.Error}"
                : string.Create(CultureInfo.InvariantCulture,
                    $"- {row.Target}: {settings.Connections - row.Answered} of {settings.Connections} connections did not echo (closed, wrong echo or none within 60 s)"));
        }

        return (text.ToString(), table.ToString());
    }

    // nginx's documented WebSocket proxying (https://nginx.org/en/docs/http/websocket.html), one worker, in the foreground;
    // each proxied WebSocket takes two worker connections; with 2 × C + 128 nginx ran out ("worker_connections are not
    // enough, reusing connections") at C = 2000, so the limits leave ample room. nginx allocates its connection
    // array when the worker starts, before the baseline reading: the headroom is not in the difference.
    private static string NginxConf(string tmp, int port, IPEndPoint upstream, int connections) => $$"""
        daemon off;
        worker_processes 1;
        worker_rlimit_nofile {{(4 * connections) + 1024}};
        pid {{tmp}}/hold-nginx.pid;
        error_log stderr warn;
        events { worker_connections {{(4 * connections) + 512}}; }
        http {
            access_log off;
            client_body_temp_path {{tmp}}/hold-nginx-body;
            proxy_temp_path {{tmp}}/hold-nginx-proxy;
            upstream echo { server {{upstream}}; }
            server {
                listen 127.0.0.1:{{port}} backlog=4096;
                location / {
                    proxy_pass http://echo;
                    proxy_http_version 1.1;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection "upgrade";
                    proxy_set_header Host $host;
                    proxy_read_timeout 1h;
                    proxy_send_timeout 1h;
                }
            }
        }

        """;

    // HAProxy's documented WebSocket setup (mode http, timeout tunnel), one thread, in the foreground (-db).
    private static string HaproxyCfg(string tmp, int port, IPEndPoint upstream, int connections) => $$"""
        global
            nbthread 1
            maxconn {{connections + 64}}

        defaults
            mode http
            timeout connect 5s
            timeout client 30s
            timeout server 30s
            timeout tunnel 1h

        frontend hold
            bind 127.0.0.1:{{port}}
            default_backend echo

        backend echo
            server echo {{upstream}}

        """;

    private sealed record Settings(FileInfo Gateway, DirectoryInfo Results, int Connections, TimeSpan Settle);

    private sealed record Started(IAsyncDisposable? Process, int Port, int ProcessId, string Command);

    private sealed record Row(string Target, string Measured, string Command, int Connections, long BeforeKiB, long AfterKiB, int Answered, string? Error)
    {
        public double KiBPerConnection => (AfterKiB - BeforeKiB) / (double)Connections;
    }
}
