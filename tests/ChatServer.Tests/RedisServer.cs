using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ChatServer.Tests;

/// <summary>
/// A real redis-server (Debian's package) on a loopback port of its own, without persistence, which a test can kill
/// and start again on the same port. Killed on dispose.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private const string ReadyLine = "Ready to accept connections";

    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    private RedisServer(int port)
    {
        Port = port;
    }

    public int Port { get; }

    /// <summary>What <c>--redis</c> takes to reach this server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>A server on a port free now, not started yet: nothing answers there until <see cref="StartAsync"/>.</summary>
    public static RedisServer OnFreePort() => new(FreePort());

    public static async Task<RedisServer> StartNewAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = OnFreePort();
            try
            {
                await server.StartAsync();
                return server;
            }
            catch (RedisServerExitedException) when (attempt < 3)
            {
                // Most likely another program took the port between FreePort and redis-server's bind.
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>Starts redis-server on <see cref="Port"/> and waits until it answers PING.</summary>
    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("redis-server is already running.");
        }
        var start = new ProcessStartInfo(Executable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => OnOutput(e.Data, ready);
        process.ErrorDataReceived += (_, e) => OnOutput(e.Data, ready);
        process.Start();
        _process = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var deadline = Deadline.Start();
        var exited = process.WaitForExitAsync(deadline.Token);
        try
        {
            if (await Task.WhenAny(ready.Task, exited).WaitAsync(deadline.Token) != ready.Task)
            {
                await exited;
                throw new RedisServerExitedException($"redis-server on port {Port} exited with {process.ExitCode}:\n{Output()}");
            }
            await PingAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"redis-server on port {Port} was not ready within {Deadline.Default.TotalSeconds} s:\n{Output()}");
        }
    }

    /// <summary>Kills the server as a crash or a lost node would end it: no goodbye to its clients.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            using var deadline = Deadline.Start();
            await process.WaitForExitAsync(deadline.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private void OnOutput(string? line, TaskCompletionSource ready)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        if (line.Contains(ReadyLine, StringComparison.Ordinal))
        {
            ready.TrySetResult();
        }
    }

    private string Output() => string.Join("\n", _output);

    private async Task PingAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
        var answer = new byte[7];
        await stream.ReadExactlyAsync(answer, cancellationToken);
        if (Encoding.ASCII.GetString(answer) != "+PONG\r\n")
        {
            throw new InvalidOperationException($"redis-server on port {Port} answered PING with '{Encoding.ASCII.GetString(answer)}'.");
        }
    }

    private static string Executable()
    {
        var found = new[] { "/usr/bin/redis-server" }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Select(folder => Path.Combine(folder, "redis-server")))
            .FirstOrDefault(File.Exists);
        return found ?? throw new InvalidOperationException(
            "redis-server is not installed, and the Redis backplane tests need a real one: apt-get install -y redis-server");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal sealed class RedisServerExitedException(string message) : Exception(message);
