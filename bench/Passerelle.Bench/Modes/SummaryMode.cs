using System.CommandLine;
using System.Globalization;
using System.Text;
using Passerelle.Bench.Infrastructure;

namespace Passerelle.Bench.Modes;

/// <summary>
/// <c>summary</c>: the one table of <c>bench/run.sh all</c>. Each mode leaves its row (medians per peer and its
/// verdicts) in results/tmp/DATE-MODE.summary.md; this gathers today's rows into results/DATE-all.md.
/// </summary>
internal static class SummaryMode
{
    private static readonly string[] Modes = ["propagation", "pingpong", "stream", "hold", "http", "churn"];

    public static Command Create()
    {
        var common = new BenchOptions();
        var command = new Command("summary", "Gathers today's rows of every mode into results/YYYY-MM-DD-all.md (run by bench/run.sh all).");
        common.AddTo(command);
        command.SetAction(async (parse, _) =>
        {
            var results = parse.GetValue(common.Results)!;
            var started = DateTimeOffset.Now;
            var day = started.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            var text = new StringBuilder();
            text.AppendLine("# Passerelle against nginx, HAProxy and a minimal YARP: every mode").AppendLine();
            text.AppendLine("Made by `bench/run.sh all`, which runs each mode in turn with its defaults; each figure is the median of the");
            text.AppendLine("mode's runs. Under each mode's figure, the proxy's CPU time per operation: on a shared 2-core machine the fairest");
            text.AppendLine("comparison, as it does not depend on which side saturated first. Each proxy ran on core 0, the load and the Go echo");
            text.AppendLine("backend on core 1; the details and every run are in the mode's own report, linked below.").AppendLine();
            text.AppendLine("## Machine (when the summary was written)").AppendLine().Append(MachineFacts.Markdown(started)).AppendLine();
            text.AppendLine("## Results").AppendLine();
            text.AppendLine("| mode: figure | no proxy (limit) | Passerelle | nginx | HAProxy | minimal YARP | target met |");
            text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
            var missing = new List<string>();
            foreach (var mode in Modes)
            {
                var row = Path.Combine(results.FullName, "tmp", $"{day}-{mode}.summary.md");
                if (File.Exists(row))
                {
                    text.Append(await File.ReadAllTextAsync(row));
                }
                else
                {
                    missing.Add(mode);
                }
            }

            text.AppendLine();
            foreach (var mode in Modes.Except(missing))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {mode}: [{day}-{mode}.md]({day}-{mode}.md)");
            }

            foreach (var mode in missing)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {mode}: no result today (it failed or was not run)");
            }

            var path = Path.Combine(results.FullName, $"{day}-all.md");
            await File.WriteAllTextAsync(path, text.ToString());
            Console.WriteLine(text.ToString());
            Console.WriteLine($"report: {Path.GetRelativePath(Environment.CurrentDirectory, path)}");
            return missing.Count == 0 ? 0 : 1;
        });
        return command;
    }
}
