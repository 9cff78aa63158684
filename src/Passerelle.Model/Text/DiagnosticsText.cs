using System.Text;
using Passerelle.Model.Diagnostics;

namespace Passerelle.Model.Text;

public static class DiagnosticsText
{
    public static string Format(IReadOnlyList<Diagnostic> diagnostics)
    {
        if (diagnostics.Count == 0)
        {
            return "No diagnostics.\n";
        }

        var text = new StringBuilder();
        foreach (var diagnostic in diagnostics.Distinct().OrderByDescending(d => d.Severity))
        {
            text.AppendLine(diagnostic.ToString());
        }

        var errors = diagnostics.Distinct().Count(d => d.Severity == DiagnosticSeverity.Error);
        var warnings = diagnostics.Distinct().Count(d => d.Severity == DiagnosticSeverity.Warning);
        text.AppendLine($"{errors} error(s), {warnings} warning(s)");
        return text.ToString();
    }
}
