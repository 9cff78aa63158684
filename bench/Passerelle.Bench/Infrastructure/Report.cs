using System.Globalization;
using System.Text;

namespace Passerelle.Bench.Infrastructure;

internal enum Better
{
    Higher,
    Lower,
}

/// <summary>A figure shown in a mode's table: its median, and with <see cref="Ratio"/> its ratio to the best peer's.</summary>
internal sealed record Column(string Key, string Header, int Decimals, Better Better, bool Ratio = false);

/// <summary>A mode's Markdown report: machine, how it ran, the medians per peer with ratios, the verdict, every run.</summary>
internal static class Report
{
    /// <summary>The best median of <paramref name="key"/> among nginx, HAProxy and minimal YARP (NaN: none measured).</summary>
    public static double Best(ComparisonResult result, string key, Better better)
    {
        var values = result.Peers.Where(p => Peers.Others.Contains(p.Peer)).Select(p => p.Median(key)).Where(v => !double.IsNaN(v)).ToArray();
        return values.Length == 0 ? double.NaN : better == Better.Higher ? values.Max() : values.Min();
    }

    /// <summary>Which of nginx, HAProxy and minimal YARP has the best median of <paramref name="key"/>.</summary>
    public static string BestName(ComparisonResult result, string key, Better better)
    {
        var best = Best(result, key, better);
        return result.Peers.Where(p => Peers.Others.Contains(p.Peer) && p.Median(key) == best).Select(p => Peers.Name(p.Peer)).FirstOrDefault() ?? "-";
    }

    public static string Number(double value, int decimals) =>
        double.IsNaN(value) ? "-" : value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).Replace(",", " ", StringComparison.Ordinal);

    public static string Ratio(double value, double best) =>
        double.IsNaN(value) || double.IsNaN(best) || best == 0 ? "-" : (value / best).ToString("F2", CultureInfo.InvariantCulture) + "×";

    /// <summary>One row per peer with the median of each column, and the ratio to the best peer after the columns that ask for it.</summary>
    public static string PeerTable(ComparisonResult result, params Column[] columns)
    {
        var text = new StringBuilder("| peer |");
        var rule = new StringBuilder("| --- |");
        foreach (var column in columns)
        {
            text.Append(CultureInfo.InvariantCulture, $" {column.Header} |");
            rule.Append(" ---: |");
            if (column.Ratio)
            {
                text.Append(" vs best peer |");
                rule.Append(" ---: |");
            }
        }

        text.AppendLine().AppendLine(rule.ToString());
        foreach (var peer in result.Peers)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {Peers.Name(peer.Peer)} |");
            foreach (var column in columns)
            {
                var value = peer.Median(column.Key);
                text.Append(CultureInfo.InvariantCulture, $" {(peer.Measured ? Number(value, column.Decimals) : "not measured")} |");
                if (column.Ratio)
                {
                    text.Append(CultureInfo.InvariantCulture, $" {Ratio(value, Best(result, column.Key, column.Better))} |");
                }
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    /// <summary>The value of <paramref name="column"/> in each run, per peer: how much the runs spread.</summary>
    public static string RunsTable(ComparisonResult result, Column column)
    {
        var runs = result.Peers.Max(p => p.Runs.Count);
        var text = new StringBuilder($"| {column.Header} |");
        var rule = new StringBuilder("| --- |");
        for (var run = 1; run <= runs; run++)
        {
            text.Append(CultureInfo.InvariantCulture, $" run {run} |");
            rule.Append(" ---: |");
        }

        text.AppendLine().AppendLine(rule.ToString());
        foreach (var peer in result.Peers)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {Peers.Name(peer.Peer)} |");
            foreach (var figures in peer.Runs)
            {
                // A run without figures failed; a run without this one has nothing of the kind (no proxy's memory).
                text.Append(CultureInfo.InvariantCulture,
                    $" {(figures is null ? "failed" : figures.TryGetValue(column.Key, out var v) ? Number(v, column.Decimals) : "-")} |");
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    /// <summary>
    /// Writes results/STEM.md and the mode's line for the summary of <c>bench/run.sh all</c> (results/tmp/STEM.summary.md),
    /// prints the main table, and returns the exit code: 1 if a peer was never measured, 3 if a target was missed, else 0.
    /// </summary>
    public static async Task<int> WriteAsync(ComparisonSettings settings, ComparisonResult result, string title, string intro,
        IEnumerable<string> runLines, string table, IReadOnlyList<Verdict> verdicts, IEnumerable<string> notes, Column[] perRun, SummaryLine summary)
    {
        var text = new StringBuilder();
        text.AppendLine("# " + title).AppendLine().AppendLine(intro).AppendLine();
        text.AppendLine("## Machine").AppendLine().Append(result.Facts).AppendLine();
        text.AppendLine("## Run").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"- {settings.Runs} runs; in each run every peer in turn, started afresh; the figures below are the medians of the runs");
        foreach (var line in runLines)
        {
            text.AppendLine("- " + line);
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"- pinning: each proxy on core 0 (`taskset -c 0`); the bench process (load) and the echo backend on CPUs `{result.Affinity}`");
        text.AppendLine(CultureInfo.InvariantCulture, $"- echo backend: Go + Debian's gorilla/websocket (`bench/EchoServer`): `{result.BackendCommand}`");
        foreach (var (peer, command) in result.Commands.Where(c => c.Value != "-").OrderBy(c => c.Key))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {Peers.Name(peer)}: `{command}`");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"- config files and logs (not committed): `bench/results/tmp/{result.Stem}-*`");
        text.AppendLine("- CPU per operation: user + system time of the proxy's process (`/proc/PID/stat`) over the measured window, divided by the operations; the same for the client (the bench process) and the echo backend, which share core 1; core busy: `/proc/stat` over the same window, whatever ran there (the machine is shared)");
        text.AppendLine("- best peer: the best of nginx, HAProxy and minimal YARP for that figure; no proxy is the limit, not a peer");
        text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## Results (medians of {settings.Runs} runs)").AppendLine();
        text.Append(table).AppendLine();
        foreach (var verdict in verdicts)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {verdict.Target}: **{(verdict.Met is null ? "not measured" : verdict.Met.Value ? "yes" : "no")}** ({verdict.Detail})");
        }

        foreach (var note in notes)
        {
            text.AppendLine("- " + note);
        }

        text.AppendLine().AppendLine("## Each run").AppendLine();
        foreach (var column in perRun)
        {
            text.Append(RunsTable(result, column)).AppendLine();
        }

        foreach (var peer in result.Peers.Where(p => p.Errors.Count > 0))
        {
            foreach (var error in peer.Errors)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {Peers.Name(peer.Peer)}: not measured in {error}");
            }
        }

        var reportPath = Path.Combine(settings.Results.FullName, result.Stem + ".md");
        await File.WriteAllTextAsync(reportPath, text.ToString().Replace(BenchOptions.RepositoryRoot + "/", "", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(settings.Results.FullName, "tmp", result.Stem + ".summary.md"), summary.Markdown(result, verdicts));
        Console.WriteLine(table);
        foreach (var verdict in verdicts)
        {
            Console.WriteLine($"{verdict.Target}: {(verdict.Met is null ? "not measured" : verdict.Met.Value ? "yes" : "no")} ({verdict.Detail})");
        }

        Console.WriteLine($"report: {Path.GetRelativePath(Environment.CurrentDirectory, reportPath)}");
        if (!result.AllMeasured)
        {
            return 1;
        }

        return verdicts.All(v => v.Met == true) ? 0 : 3;
    }
}

/// <summary>A target of the issue and whether this run met it (null: could not tell).</summary>
internal sealed record Verdict(string Target, bool? Met, string Detail);

/// <summary>
/// The mode's rows in the summary of <c>bench/run.sh all</c>: its main figure per peer with the verdicts, and when
/// <see cref="CpuMeasure"/> is given, the proxy's CPU time per operation (<see cref="CpuKey"/>).
/// </summary>
internal sealed record SummaryLine(string Measure, string Key, int Decimals, string Unit, string? CpuMeasure = null, string CpuKey = Figure.ProxyCpu)
{
    public string Markdown(ComparisonResult result, IReadOnlyList<Verdict> verdicts)
    {
        var met = verdicts.Count == 0 ? "-" : string.Join("; ", verdicts.Select(v => (v.Met is null ? "not measured" : v.Met.Value ? "yes" : "no") + ": " + v.Target));
        var text = $"| {Measure} | {Cells(result, Key, Decimals)} | {met} |\n";
        return CpuMeasure is null ? text : text + $"| {CpuMeasure} | {Cells(result, CpuKey, 0)} | - |\n";
    }

    private string Cells(ComparisonResult result, string key, int decimals) => string.Join(" | ", Peers.All.Select(peer =>
    {
        var results = result.Peers.FirstOrDefault(p => p.Peer == peer);
        return results is null || !results.Measured ? "-" : Report.Number(results.Median(key), decimals) + (Number(results.Median(key)) ? Unit : "");
    }));

    private static bool Number(double value) => !double.IsNaN(value);
}
