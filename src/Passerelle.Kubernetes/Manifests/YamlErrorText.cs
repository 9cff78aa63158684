using System.Text.RegularExpressions;
using Passerelle.Model.Diagnostics;
using YamlDotNet.Core;

namespace Passerelle.Kubernetes.Manifests;

/// <summary>Turns YamlDotNet's exception into the diagnostic a user reads: file, line, column, and the reason.</summary>
internal static partial class YamlErrorText
{
    public static Diagnostic ToDiagnostic(YamlException error, string file) =>
        new(DiagnosticSeverity.Error, Describe(error), File: file, Line: (int)Math.Clamp(error.Start.Line, 1, int.MaxValue));

    public static string Describe(YamlException error)
    {
        var reason = Location().Replace(error.Message, "").Trim().TrimEnd('.');
        if (error is AnchorNotFoundException && Quoted().Match(reason) is { Success: true } anchor)
        {
            reason = $"alias *{anchor.Groups[1].Value} refers to no anchor (&{anchor.Groups[1].Value}) defined before it";
        }
        else if (DuplicateKey().Match(reason) is { Success: true } duplicate)
        {
            reason = $"key \"{duplicate.Groups[1].Value}\" appears twice in the same mapping";
        }
        else if (reason.Length > 0)
        {
            reason = char.ToLowerInvariant(reason[0]) + reason[1..];
        }

        // YamlDotNet places an unknown alias at the start of its mapping, not at the alias: no column beats a wrong one.
        return error is AnchorNotFoundException
            ? $"invalid YAML: {reason}"
            : $"invalid YAML at column {Math.Max(1, error.Start.Column)}: {reason}";
    }

    // Some YamlDotNet messages start with "(Line: 3, Col: 5, Idx: 20) - (Line: 3, Col: 6, Idx: 21): ".
    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex Location();

    [GeneratedRegex("'(.*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex("^Duplicate key (.*)$")]
    private static partial Regex DuplicateKey();
}
