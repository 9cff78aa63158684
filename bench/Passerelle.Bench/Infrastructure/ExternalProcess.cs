using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// A program the bench starts and stops itself, such as a peer proxy (nginx, HAProxy) in the foreground: its output
/// goes to a log file; it is ready when its port accepts connections; it is stopped with SIGTERM, then killed.
/// </summary>
internal sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Task _readers;

    private ExternalProcess(Process process, StreamWriter log, string commandLine)
    {
        _process = process;
        _log = log;
        CommandLine = commandLine;
        _readers = Task.WhenAll(CopyAsync(process.StandardOutput), CopyAsync(process.StandardError));
    }

    public string CommandLine { get; }

    /// <summary>The process id (of the program itself when started under a prefix that execs it, such as taskset).</summary>
    public int ProcessId => _process.Id;

    public static ExternalProcess Start(IReadOnlyList<string> command, string logPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var start = new ProcessStartInfo(command[0], command.Skip(1))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new BenchException($"could not start {command[0]}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new BenchException($"could not start {command[0]}: {e.Message}");
        }

        return new ExternalProcess(process, new StreamWriter(logPath, append: false) { AutoFlush = true }, string.Join(' ', command));
    }

    /// <summary>Waits until <paramref name="port"/> on 127.0.0.1 accepts a TCP connection.</summary>
    public async Task WaitListeningAsync(int port, TimeSpan timeout)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (_process.HasExited)
            {
                await _readers.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                throw new BenchException($"`{CommandLine}` exited with code {_process.ExitCode} before it listened (see its log)");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new BenchException($"`{CommandLine}` did not listen on port {port} within {timeout.TotalSeconds:F0} s");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcesses.StopAsync(_process, TimeSpan.FromSeconds(10));

        await _readers.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _process.Dispose();
        await _log.DisposeAsync();
    }

    private async Task CopyAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_log)
            {
                _log.WriteLine(line);
            }
        }
    }
}
