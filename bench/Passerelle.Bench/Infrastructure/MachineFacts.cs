using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Passerelle.Bench.Infrastructure;

/// <summary>What a reader needs to compare two reports: the machine, the runtime and the commit measured.</summary>
internal static class MachineFacts
{
    public static string Markdown(DateTimeOffset started)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"- date: {started:yyyy-MM-dd HH:mm:ss zzz}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- nproc: {Run("nproc", "--all") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- CPU: {CpuModel()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- memory: {Memory()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- load average at start (1/5/15 min): {LoadAverage()}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- OS: {RuntimeInformation.OSDescription}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- .NET: SDK {Run("dotnet", "--version") ?? "?"}, runtime {RuntimeInformation.FrameworkDescription}");
        text.AppendLine(CultureInfo.InvariantCulture, $"- git commit: {Commit()}");
        return text.ToString();
    }

    private static string CpuModel()
    {
        var line = ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
        return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
    }

    private static string Memory()
    {
        var line = ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kb = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1);
        return long.TryParse(kb, CultureInfo.InvariantCulture, out var value)
            ? (value / 1024.0 / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " GiB"
            : "?";
    }

    private static string LoadAverage()
    {
        var parts = ReadLines("/proc/loadavg").FirstOrDefault()?.Split(' ');
        return parts is { Length: >= 3 } ? $"{parts[0]} / {parts[1]} / {parts[2]}" : "?";
    }

    /// <summary>HEAD, and whether the work tree differs from it (read-only: no index refresh is written).</summary>
    private static string Commit()
    {
        var root = BenchOptions.RepositoryRoot;
        var head = Run("git", "-C", root, "rev-parse", "--short=12", "HEAD");
        if (head is null)
        {
            return "? (not a git work tree)";
        }

        var changes = Run("git", "--no-optional-locks", "-C", root, "status", "--porcelain", "--untracked-files=no");
        return string.IsNullOrWhiteSpace(changes) ? head : $"{head} (with uncommitted changes in the work tree)";
    }

    private static IEnumerable<string> ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? Run(string command, params string[] arguments)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(30_000))
            {
                process.Kill();
                return null;
            }

            return process.ExitCode == 0 ? output.Result.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
