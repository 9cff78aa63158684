using System.Text;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Diagnostics;

public enum DiagnosticSeverity
{
    /// <summary>Something worth knowing that changes nothing, such as an object of another ingress class being ignored.</summary>
    Info,

    /// <summary>Served, but probably not as the user meant (a route to a Service that does not exist answers 502).</summary>
    Warning,

    /// <summary>The object or field was left out of the configuration.</summary>
    Error,
}

/// <summary>
/// One finding about the user's objects. It names the file, the object and the field so that the user knows
/// exactly what to edit, in the form compilers use: <c>app.yaml:12: error: Ingress default/web: spec.rules[0].host: ...</c>.
/// </summary>
public sealed record Diagnostic(
    DiagnosticSeverity Severity,
    string Message,
    ObjectRef? Object = null,
    string? Field = null,
    string? File = null,
    int? Line = null)
{
    public static Diagnostic For(SourcedObject source, DiagnosticSeverity severity, string? field, string message) =>
        new(severity, message, source.Ref, field, source.Origin?.File, source.Origin?.LineOf(field));

    public override string ToString()
    {
        var text = new StringBuilder();
        if (File is not null)
        {
            text.Append(File);
            if (Line is not null)
            {
                text.Append(':').Append(Line);
            }

            text.Append(": ");
        }

        text.Append(Severity switch
        {
            DiagnosticSeverity.Error => "error",
            DiagnosticSeverity.Warning => "warning",
            _ => "info",
        });
        text.Append(": ");
        if (Object is not null)
        {
            text.Append(Object).Append(": ");
        }

        if (!string.IsNullOrEmpty(Field))
        {
            text.Append(Field).Append(": ");
        }

        return text.Append(Message).ToString();
    }
}
