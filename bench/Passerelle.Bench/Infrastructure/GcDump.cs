using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Passerelle.Bench.Infrastructure;

/// <summary>
/// The live managed heap of a .NET peer, read from outside without changing it: <c>dotnet-gcdump collect</c> (a
/// dotnet tool, installed by bench/run.sh) makes the runtime run a full blocking GC and walk the heap, and its report
/// gives the bytes still alive. As a side effect the peer's garbage is collected, so its RSS read right after is
/// "after a forced settle". The report (bytes and counts per type) is kept as STEM-PID.gcdump.txt.
/// </summary>
internal static partial class GcDump
{
    /// <summary>The live GC heap in KiB, or NaN when the tool is missing or fails (the report then shows "-").</summary>
    public static async Task<double> LiveHeapKiBAsync(FileInfo tool, int pid, string tmp, string stem)
    {
        if (!tool.Exists)
        {
            return double.NaN;
        }

        var dump = Path.Combine(tmp, $"{stem}-{pid}.gcdump");
        try
        {
            if (await RunAsync(tool.FullName, "collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "-o", dump) is null)
            {
                return double.NaN;
            }

            var report = await RunAsync(tool.FullName, "report", dump);
            if (report is not null)
            {
                // Kept beside the run's logs: which types the heap holds is the first question after "how much".
                await File.WriteAllTextAsync(Path.ChangeExtension(dump, ".gcdump.txt"), report);
            }

            var match = report is null ? null : HeapBytes().Match(report);
            return match is { Success: true }
                ? long.Parse(match.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture) / 1024.0
                : double.NaN;
        }
        finally
        {
            File.Delete(dump);
        }
    }

    private static async Task<string?> RunAsync(string command, params string[] arguments)
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
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            return null;
        }

        return process.ExitCode == 0 ? await output : null;
    }

    [GeneratedRegex(@"^\s*([\d,]+)\s+GC Heap bytes", RegexOptions.Multiline)]
    private static partial Regex HeapBytes();
}
