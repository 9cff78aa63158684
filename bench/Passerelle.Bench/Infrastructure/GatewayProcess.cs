using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// The real gateway, started as users start it (<c>dotnet passerelle.dll run -f FOLDER ...</c>) in its own process.
/// Its stdout and stderr go to a log file, and its "Applied configuration generation N: ... in X ms" lines are
/// parsed as they arrive.
/// </summary>
internal sealed partial class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _lock = new();
    private readonly List<AppliedGeneration> _applied = [];
    private readonly Queue<string> _tail = new();
    private readonly Task _readers;

    private GatewayProcess(Process process, StreamWriter log, int httpPort, int adminPort, string commandLine)
    {
        _process = process;
        _log = log;
        HttpPort = httpPort;
        AdminPort = adminPort;
        CommandLine = commandLine;
        _readers = Task.WhenAll(ReadAsync(process.StandardOutput), ReadAsync(process.StandardError));
    }

    public int HttpPort { get; }

    /// <summary>The gateway's process id (the dotnet process: a prefix such as taskset execs it).</summary>
    public int ProcessId => _process.Id;

    public int AdminPort { get; }

    /// <summary>The command as a user would type it, for the report.</summary>
    public string CommandLine { get; }

    public Uri Http => new($"http://127.0.0.1:{HttpPort}/");

    /// <param name="prefix">A command the gateway is started under, such as <c>taskset -c 0</c> (it must exec dotnet).</param>
    public static GatewayProcess Start(FileInfo dll, string manifests, string logPath, IReadOnlyList<string>? prefix = null)
    {
        if (!dll.Exists)
        {
            throw new BenchException($"no gateway at {dll.FullName}: build it first (dotnet build -c Release src/Passerelle)");
        }

        var httpPort = FreePort();
        var adminPort = FreePort();
        string[] arguments =
        [
            dll.FullName, "run", "-f", manifests,
            "--http-port", httpPort.ToString(CultureInfo.InvariantCulture),
            "--admin-port", adminPort.ToString(CultureInfo.InvariantCulture),
            "--listen-address", "127.0.0.1",
        ];
        string[] command = [.. prefix ?? [], "dotnet", .. arguments];
        var start = new ProcessStartInfo(command[0], command[1..])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var log = new StreamWriter(logPath, append: false) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new BenchException("could not start dotnet");
        return new GatewayProcess(process, log, httpPort, adminPort, string.Join(' ', command));
    }

    /// <summary>Waits for <c>/readyz</c> to answer 200.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (_process.HasExited)
            {
                await _readers.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw new BenchException($"the gateway exited with code {_process.ExitCode} before it was ready; its last lines:\n{Tail()}");
            }

            try
            {
                using var response = await client.GetAsync($"http://127.0.0.1:{AdminPort}/readyz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new BenchException($"the gateway was not ready within {timeout.TotalSeconds:F0} s; its last lines:\n{Tail()}");
            }

            await Task.Delay(50);
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The highest generation the gateway has logged as applied so far (0: none).</summary>
    public long LastGeneration
    {
        get
        {
            lock (_lock)
            {
                return _applied.Count == 0 ? 0 : _applied.Max(a => a.Generation);
            }
        }
    }

    /// <summary>Every generation logged after <paramref name="generation"/>, waiting up to <paramref name="timeout"/> for at least one.</summary>
    public async Task<IReadOnlyList<AppliedGeneration>> WaitForGenerationsAfterAsync(long generation, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            lock (_lock)
            {
                var newer = _applied.Where(a => a.Generation > generation).ToList();
                if (newer.Count > 0)
                {
                    return newer;
                }
            }

            if (Stopwatch.GetElapsedTime(started) > timeout || _process.HasExited)
            {
                return [];
            }

            await Task.Delay(5);
        }
    }

    public string Tail()
    {
        lock (_lock)
        {
            return string.Join('\n', _tail);
        }
    }

    /// <summary>SIGTERM, as Kubernetes stops a pod; killed if it has not stopped within 15 s.</summary>
    public async ValueTask DisposeAsync()
    {
        await ChildProcesses.StopAsync(_process, TimeSpan.FromSeconds(15));

        await _readers.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _process.Dispose();
        await _log.DisposeAsync();
    }

    private async Task ReadAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_lock)
            {
                _log.WriteLine(line);
                _tail.Enqueue(line);
                if (_tail.Count > 30)
                {
                    _tail.Dequeue();
                }

                var match = AppliedLine().Match(line);
                if (match.Success)
                {
                    _applied.Add(new AppliedGeneration(
                        long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture),
                        double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture),
                        TimeOnly.TryParseExact(match.Groups[1].Value, "HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)
                            ? at
                            : null));
                }
            }
        }
    }

    /// <summary>A loopback TCP port free right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    // The gateway's console log starts each line with its local time, HH:mm:ss.fff, taken when the line is logged.
    [GeneratedRegex(@"^(?:(\d\d:\d\d:\d\d\.\d\d\d) )?.*Applied configuration generation (\d+):.* in ([0-9]+(?:\.[0-9]+)?) ms")]
    private static partial Regex AppliedLine();
}

/// <summary>
/// One "Applied configuration generation N: ... in X ms" line of the gateway's log, with the line's local time
/// (millisecond resolution), which is when the new configuration had just been published.
/// </summary>
internal sealed record AppliedGeneration(long Generation, double ElapsedMs, TimeOnly? LoggedAt)
{
    /// <summary>Milliseconds from <paramref name="before"/> (local time) to the log line, or null without a time.</summary>
    public double? MillisecondsAfter(DateTime before)
    {
        if (LoggedAt is not { } at)
        {
            return null;
        }

        var difference = at.ToTimeSpan() - before.TimeOfDay;
        if (difference < TimeSpan.FromHours(-12))
        {
            difference += TimeSpan.FromDays(1); // past midnight
        }

        return difference.TotalMilliseconds;
    }
}
