using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>pingpong</c>: WebSocket message round trips, C connections each sending a 64-byte text message and waiting for
/// its echo in a loop, against the echo backend directly, Passerelle, nginx and HAProxy, one after the other, in one
/// run. Each proxy is pinned to core 0 (<c>taskset -c 0</c>), the bench process (backend and load) to core 1.
/// </summary>
internal static class PingPongMode
{
    private const int MessageBytes = 64;
    private static readonly string[] PinProxy = ["taskset", "-c", "0"];
    private static readonly byte[] Payload = Encoding.ASCII.GetBytes(new string('x', MessageBytes));

    public static Command Create()
    {
        var common = new BenchOptions();
        var connections = new Option<int>("--connections")
        {
            Description = "WebSockets open at once, each one ping-ponging in its own task.",
            HelpName = "C",
            DefaultValueFactory = _ => 100,
        };
        var duration = new Option<int>("--duration")
        {
            Description = "Seconds measured per target, after the warm-up.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 10,
        };
        var warmup = new Option<int>("--warmup")
        {
            Description = "Seconds of ping-pong per target before the measure, not counted.",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 2,
        };
        connections.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 4000) r.AddError("--connections must be 1 to 4000 (HAProxy has maxconn 4096)"); });
        duration.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 1 or > 600) r.AddError("--duration must be 1 to 600 seconds"); });
        warmup.Validators.Add(r => { if (r.GetValueOrDefault<int>() is < 0 or > 60) r.AddError("--warmup must be 0 to 60 seconds"); });

        var command = new Command("pingpong", "WebSocket round trips of 64-byte messages: direct, Passerelle, nginx, HAProxy.")
        {
            connections,
            duration,
            warmup,
        };
        common.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                return await RunAsync(new Settings(parse.GetValue(common.Gateway)!, parse.GetValue(common.Results)!, parse.GetValue(connections),
                    TimeSpan.FromSeconds(parse.GetValue(duration)), TimeSpan.FromSeconds(parse.GetValue(warmup))), cancellationToken);
            }
            catch (BenchException e)
            {
                await Console.Error.WriteLineAsync("bench pingpong: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.Now;
        var facts = MachineFacts.Markdown(started);
        var affinity = CpusAllowed();
        if (affinity != "1")
        {
            await Console.Error.WriteLineAsync($"bench pingpong: warning: the bench process may run on CPUs {affinity}, not only core 1 (run it with bench/run.sh, which pins it)");
        }

        var stem = $"{started:yyyy-MM-dd}-pingpong";
        var tmp = Directory.CreateDirectory(Path.Combine(settings.Results.FullName, "tmp")).FullName;
        var work = Directory.CreateTempSubdirectory("passerelle-bench-");
        try
        {
            await using var backend = await EchoBackend.StartAsync(new IPEndPoint(IPAddress.Loopback, GatewayProcess.FreePort()));
            var upstream = backend.EndPoint;
            var rows = new List<Row>
            {
                await MeasureAsync("echo backend directly (no proxy)", settings, cancellationToken,
                    () => Task.FromResult<(IAsyncDisposable?, int, string)>((null, upstream.Port, "-"))),
                await MeasureAsync("Passerelle", settings, cancellationToken, async () =>
                {
                    var manifests = Directory.CreateDirectory(Path.Combine(work.FullName, "manifests")).FullName;
                    await File.WriteAllTextAsync(Path.Combine(manifests, "web.yaml"), ManifestYaml(upstream), cancellationToken);
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
                    return (gateway, gateway.HttpPort, shown);
                }),
                await MeasureAsync("nginx", settings, cancellationToken, () => StartPeerAsync(tmp, stem, "nginx", upstream, NginxConf,
                    (conf, _) => ["nginx", "-p", tmp, "-c", conf])),
                await MeasureAsync("HAProxy", settings, cancellationToken, () => StartPeerAsync(tmp, stem, "haproxy", upstream, HaproxyCfg,
                    (conf, _) => ["haproxy", "-db", "-f", conf])),
            };

            var report = Report(settings, facts, affinity, rows, stem);
            var reportPath = Path.Combine(settings.Results.FullName, stem + ".md");
            await File.WriteAllTextAsync(reportPath, report.Markdown, CancellationToken.None);
            Console.WriteLine(report.Table);
            Console.WriteLine($"report: {Path.GetRelativePath(Environment.CurrentDirectory, reportPath)}");
            return rows.All(r => r.Error is null) ? 0 : 1;
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

    /// <summary>Writes the peer's config file under results/tmp/, starts it pinned to core 0 and waits for its port.</summary>
    private static async Task<(IAsyncDisposable?, int, string)> StartPeerAsync(string tmp, string stem, string name, IPEndPoint upstream,
        Func<string, int, IPEndPoint, string> config, Func<string, int, string[]> command)
    {
        var port = GatewayProcess.FreePort();
        var conf = Path.Combine(tmp, $"{stem}-{name}.conf");
        await File.WriteAllTextAsync(conf, config(tmp, port, upstream));
        var process = ExternalProcess.Start([.. PinProxy, .. command(conf, port)], Path.Combine(tmp, $"{stem}-{name}.log"));
        try
        {
            await process.WaitListeningAsync(port, TimeSpan.FromSeconds(15));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }

        return (process, port, process.CommandLine.Replace(BenchOptions.RepositoryRoot + "/", "", StringComparison.Ordinal));
    }

    private static async Task<Row> MeasureAsync(string target, Settings settings, CancellationToken cancellationToken,
        Func<Task<(IAsyncDisposable? Process, int Port, string Command)>> start)
    {
        await Console.Error.WriteLineAsync($"bench pingpong: {target}: {settings.Connections} connections, {settings.Warmup.TotalSeconds:F0} s warm-up + {settings.Duration.TotalSeconds:F0} s");
        IAsyncDisposable? process = null;
        var command = "-";
        try
        {
            (process, var port, command) = await start();
            var (samples, errors) = await LoadAsync(new Uri($"ws://127.0.0.1:{port}/ws"), settings, cancellationToken);
            var sorted = samples.Order().ToArray();
            return new Row(target, command, sorted.Length / settings.Duration.TotalSeconds, sorted, errors, null);
        }
        catch (BenchException e)
        {
            await Console.Error.WriteLineAsync($"bench pingpong: {target}: not measured: {e.Message}");
            return new Row(target, command, double.NaN, [], 0, e.Message);
        }
        finally
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>Opens every connection, then ping-pongs on each in its own task; returns the round trips of messages sent in the measured window.</summary>
    private static async Task<(List<double> Samples, int Errors)> LoadAsync(Uri uri, Settings settings, CancellationToken cancellationToken)
    {
        var sockets = new ClientWebSocket[settings.Connections];
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(TimeSpan.FromSeconds(30));
                await Task.WhenAll(sockets.Select(async (_, i) =>
                {
                    var socket = sockets[i] = new ClientWebSocket();
                    socket.Options.KeepAliveInterval = TimeSpan.Zero;
                    socket.Options.Proxy = null;
                    await socket.ConnectAsync(uri, connectTimeout.Token);
                }));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            throw new BenchException($"could not open {settings.Connections} WebSockets to {uri}: {e.Message}");
        }

        try
        {
            var from = Stopwatch.GetTimestamp() + (long)(settings.Warmup.TotalSeconds * Stopwatch.Frequency);
            var to = from + (long)(settings.Duration.TotalSeconds * Stopwatch.Frequency);
            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stall.CancelAfter(settings.Warmup + settings.Duration + TimeSpan.FromSeconds(10)); // a lost echo must not hang the run
            var results = await Task.WhenAll(sockets.Select(socket => Task.Run(() => PingPongAsync(socket, from, to, stall.Token), CancellationToken.None)));
            return (results.SelectMany(r => r.Samples).ToList(), results.Count(r => r.Failed));
        }
        finally
        {
            await Task.WhenAll(sockets.Select(CloseAsync));
        }
    }

    private static async Task<(List<double> Samples, bool Failed)> PingPongAsync(ClientWebSocket socket, long from, long to, CancellationToken cancellationToken)
    {
        var samples = new List<double>(16 * 1024);
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 >= to)
                {
                    return (samples, false);
                }

                await socket.SendAsync(Payload, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
                var length = 0;
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    length += received.Count;
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close && length < buffer.Length);

                var t1 = Stopwatch.GetTimestamp();
                if (received.MessageType != WebSocketMessageType.Text || !buffer.AsSpan(0, length).SequenceEqual(Payload))
                {
                    return (samples, true);
                }

                if (t0 >= from)
                {
                    samples.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            return (samples, true);
        }
    }

    private static Task CloseAsync(ClientWebSocket? socket) => ChildProcesses.CloseQuietlyAsync(socket, TimeSpan.FromSeconds(2));

    private static (string Markdown, string Table) Report(Settings settings, string facts, string affinity, List<Row> rows, string stem)
    {
        var best = rows.Where(r => r.Target is "nginx" or "HAProxy" && r.Error is null).Select(r => r.Rate).DefaultIfEmpty(double.NaN).Max();
        var table = new StringBuilder();
        table.AppendLine("| target | messages/s | vs best of nginx/HAProxy | p50 ms | p99 ms | p99.9 ms |");
        table.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
        {
            if (row.Error is not null || row.Sorted.Length == 0)
            {
                table.AppendLine(CultureInfo.InvariantCulture, $"| {row.Target} | not measured | - | - | - | - |");
                continue;
            }

            var ratio = double.IsNaN(best) ? "-" : (row.Rate / best).ToString("F2", CultureInfo.InvariantCulture) + "×";
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Target} | {row.Rate:F0} | {ratio} | {Ms(row.Sorted, 50)} | {Ms(row.Sorted, 99)} | {Ms(row.Sorted, 99.9)} |");
        }

        var text = new StringBuilder();
        text.AppendLine("# WebSocket ping-pong: Passerelle, nginx, HAProxy");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{settings.Connections} WebSockets, each sending a {MessageBytes}-byte text message and waiting for its echo, in a loop;");
        text.AppendLine("the same load against the echo backend directly and through each proxy, one after the other. Made by `bench/run.sh pingpong`.");
        text.AppendLine();
        text.AppendLine("## Machine");
        text.AppendLine();
        text.Append(facts);
        text.AppendLine();
        text.AppendLine("## Run");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- per target: {settings.Warmup.TotalSeconds:F0} s warm-up (not counted), then {settings.Duration.TotalSeconds:F0} s measured; messages/s counts the round trips started in the measured window");
        text.AppendLine(CultureInfo.InvariantCulture, $"- pinning: each proxy on core 0 (`taskset -c 0`); the bench process (echo backend and load generator) on CPUs `{affinity}`");
        text.AppendLine("- echo backend: minimal Kestrel WebSocket echo in the bench process (`Infrastructure/EchoBackend.cs`); load: .NET `ClientWebSocket`, one task per connection");
        foreach (var row in rows.Where(r => r.Command != "-"))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {row.Target}: `{row.Command}`");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"- config files and logs (not committed): `bench/results/tmp/{stem}-*`");
        text.AppendLine("- percentiles are nearest-rank over every round trip of the measured window");
        text.AppendLine();
        text.AppendLine("## Results");
        text.AppendLine();
        text.Append(table);
        text.AppendLine();
        foreach (var row in rows.Where(r => r.Error is not null || r.Errors > 0))
        {
            text.AppendLine(row.Error is not null
                ? $"- {row.Target}: not measured: {row.Error}"
                : string.Create(CultureInfo.InvariantCulture,
                    $"- {row.Target}: {row.Errors} of {settings.Connections} connections failed during the run (closed, wrong echo or no echo in time)"));
        }

        return (text.ToString(), table.ToString());
    }

    private static string Ms(double[] sorted, double percent) => Stats.Percentile(sorted, percent).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>The CPUs this process may run on, from /proc/self/status (Linux), or "?".</summary>
    private static string CpusAllowed()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal));
            return line?["Cpus_allowed_list:".Length..].Trim() ?? "?";
        }
        catch (IOException)
        {
            return "?";
        }
    }

    /// <summary>Service, EndpointSlice and Ingress routing <c>/</c> of any host to <paramref name="upstream"/> (also used by <c>hold</c>).</summary>
    internal static string ManifestYaml(IPEndPoint upstream) => $$"""
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
        spec:
          ports:
            - port: 80
              targetPort: {{upstream.Port}}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: echo-slice
          labels:
            kubernetes.io/service-name: echo
        addressType: IPv4
        ports:
          - port: {{upstream.Port}}
        endpoints:
          - addresses: ["{{upstream.Address}}"]
            conditions:
              ready: true
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: echo
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
                        name: echo
                        port:
                          number: 80

        """;

    // nginx's documented WebSocket proxying (https://nginx.org/en/docs/http/websocket.html), one worker, in the foreground.
    private static string NginxConf(string tmp, int port, IPEndPoint upstream) => $$"""
        daemon off;
        worker_processes 1;
        pid {{tmp}}/pingpong-nginx.pid;
        error_log stderr warn;
        events { worker_connections 4096; }
        http {
            access_log off;
            client_body_temp_path {{tmp}}/pingpong-nginx-body;
            proxy_temp_path {{tmp}}/pingpong-nginx-proxy;
            upstream echo { server {{upstream}}; }
            server {
                listen 127.0.0.1:{{port}};
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
    private static string HaproxyCfg(string tmp, int port, IPEndPoint upstream) => $$"""
        global
            nbthread 1
            maxconn 4096

        defaults
            mode http
            timeout connect 5s
            timeout client 30s
            timeout server 30s
            timeout tunnel 1h

        frontend pingpong
            bind 127.0.0.1:{{port}}
            default_backend echo

        backend echo
            server echo {{upstream}}

        """;

    private sealed record Settings(FileInfo Gateway, DirectoryInfo Results, int Connections, TimeSpan Duration, TimeSpan Warmup);

    private sealed record Row(string Target, string Command, double Rate, double[] Sorted, int Errors, string? Error);
}
