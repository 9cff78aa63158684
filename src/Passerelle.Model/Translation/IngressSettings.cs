using Passerelle.Model.Diagnostics;
using Passerelle.Model.Objects;
using Passerelle.Model.Translation.Probes;

namespace Passerelle.Model.Translation;

/// <summary>Reads the per-Ingress annotations that shape how its routes are forwarded.</summary>
internal static class IngressSettings
{
    public static RouteSettings Read(SourcedObject source, List<Diagnostic> diagnostics)
    {
        var annotations = source.Object.Metadata.Annotations;
        if (annotations is null || annotations.Count == 0)
        {
            return RouteSettings.Default;
        }

        var requestTimeout = ReadDuration(source, annotations, Annotations.RequestTimeout, diagnostics);
        var idleTimeout = ReadDuration(source, annotations, Annotations.WebSocketIdleTimeout, diagnostics);

        // The backend annotations also shape the probe, whose derivation reports a bad value; read them silently here.
        var backend = ProbeAnnotations.Read(source, _ => { });
        var settings = new RouteSettings(requestTimeout, idleTimeout, backend.BackendPathPrefix, backend.BackendHostname, backend.BackendProtocol);
        return settings == RouteSettings.Default ? RouteSettings.Default : settings;
    }

    private static TimeSpan? ReadDuration(SourcedObject source, IDictionary<string, string> annotations, string name, List<Diagnostic> diagnostics)
    {
        if (!annotations.TryGetValue(name, out var text))
        {
            return null;
        }

        if (DurationParser.TryParse(text, out var value))
        {
            return value;
        }

        diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Error, $"metadata.annotations[{name}]",
            $"\"{text}\" is not a duration: give seconds (\"30\") or a duration such as \"90s\", \"30m\", \"1h\"; the gateway default applies"));
        return null;
    }
}
