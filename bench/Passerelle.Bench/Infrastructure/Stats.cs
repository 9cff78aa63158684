using System.Globalization;
using System.Text;

namespace Passerelle.Bench.Infrastructure;

/// <summary>Summary statistics of one series of samples in milliseconds, and the Markdown table they are reported in.</summary>
internal sealed record Stats(int Count, int Failures, double Min, double P50, double P90, double P99, double Max)
{
    public static Stats Of(IReadOnlyCollection<double> samples, int failures)
    {
        if (samples.Count == 0)
        {
            return new Stats(0, failures, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var sorted = samples.Order().ToArray();
        return new Stats(sorted.Length, failures, sorted[0], Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 99), sorted[^1]);
    }

    /// <summary>Nearest rank: the smallest sample that at least <paramref name="percent"/>% of the samples do not exceed.</summary>
    public static double Percentile(double[] sorted, double percent) =>
        sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("F1", CultureInfo.InvariantCulture);

    /// <summary>A Markdown table: one row per measure, with a last column for a verdict (may be "-").</summary>
    public static string Table(string verdictHeader, params (string Measure, Stats Stats, string Verdict)[] rows)
    {
        var text = new StringBuilder();
        text.AppendLine($"| measure | count | failures | min ms | p50 ms | p90 ms | p99 ms | max ms | {verdictHeader} |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var (measure, s, verdict) in rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {measure} | {s.Count} | {s.Failures} | {Ms(s.Min)} | {Ms(s.P50)} | {Ms(s.P90)} | {Ms(s.P99)} | {Ms(s.Max)} | {verdict} |");
        }

        return text.ToString();
    }
}
