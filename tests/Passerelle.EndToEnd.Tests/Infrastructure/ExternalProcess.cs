using System.Diagnostics;
using System.Text;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A third-party program (curl, websocketd, python3) run as a real peer. Output is collected as it arrives so
/// that a test can wait for a line with a deadline; the process is killed with its children on dispose.
/// </summary>
internal sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly StringBuilder _standardOutput = new();
    private readonly object _lock = new();

    private ExternalProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Standard output alone, without the progress and errors a program writes to standard error.</summary>
    public string StandardOutput
    {
        get
        {
            lock (_lock)
            {
                return _standardOutput.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static ExternalProcess Start(string fileName, params string[] arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var result = new ExternalProcess(process);
        process.OutputDataReceived += (_, e) => result.Append(e.Data, standardOutput: true);
        process.ErrorDataReceived += (_, e) => result.Append(e.Data, standardOutput: false);
        if (!process.Start())
        {
            throw new InvalidOperationException($"cannot start {fileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs to completion within <paramref name="timeout"/>; returns the exit code and all output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(TimeSpan timeout, string fileName, params string[] arguments)
    {
        var (exitCode, output, _) = await RunCapturingAsync(timeout, fileName, arguments);
        return (exitCode, output);
    }

    /// <summary>Runs to completion within <paramref name="timeout"/>; returns the exit code, all output and standard output.</summary>
    public static async Task<(int ExitCode, string Output, string StandardOutput)> RunCapturingAsync(TimeSpan timeout, string fileName, params string[] arguments)
    {
        await using var process = Start(fileName, arguments);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process._process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{fileName} did not finish within {timeout.TotalSeconds} s; output so far:\n{process.Output}");
        }

        // The exit event can precede the last output events: wait for the streams to end.
        process._process.WaitForExit();
        return (process._process.ExitCode, process.Output, process.StandardOutput);
    }

    /// <summary>Sends a signal (e.g. TERM, INT) as an orchestrator or a terminal would.</summary>
    public void Signal(string name)
    {
        using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public Task WaitForOutputAsync(string text, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(() => Output.Contains(text, StringComparison.Ordinal) || HasExited && Output.Contains(text, StringComparison.Ordinal),
            $"\"{text}\" in the output of {_process.StartInfo.FileName}", timeout);

    /// <summary>Waits for the process to exit; a <see cref="TimeoutException"/> with its output if it has not within <paramref name="timeout"/>.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{_process.StartInfo.FileName} did not exit within {timeout.TotalSeconds} s; output so far:\n{Output}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }

    private void Append(string? line, bool standardOutput)
    {
        if (line is null)
        {
            return;
        }

        lock (_lock)
        {
            _output.AppendLine(line);
            if (standardOutput)
            {
                _standardOutput.AppendLine(line);
            }
        }
    }
}
