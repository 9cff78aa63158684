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

        var drainTimeout = ReadDraining(source, annotations, diagnostics);

        // The backend annotations also shape the probe, whose derivation reports a bad value; read them silently here.
        var backend = ProbeAnnotations.Read(source, _ => { });
        var settings = new RouteSettings(requestTimeout, idleTimeout, backend.BackendPathPrefix, backend.BackendHostname, backend.BackendProtocol,
            drainTimeout);
        return settings == RouteSettings.Default ? RouteSettings.Default : settings;
    }

    /// <summary>
    /// AGIC's connection draining: <c>connection-draining: "true"</c> turns it on, with
    /// <c>connection-draining-timeout</c> seconds (default 30, Application Gateway's range 1-3600). Without it the
    /// gateway-wide drain timeout applies: Passerelle always drains, it never cuts a WebSocket at once.
    /// </summary>
    private static TimeSpan? ReadDraining(SourcedObject source, IDictionary<string, string> annotations, List<Diagnostic> diagnostics)
    {
        if (!annotations.TryGetValue(Annotations.ConnectionDraining, out var enabled))
        {
            if (annotations.ContainsKey(Annotations.ConnectionDrainingTimeout))
            {
                diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Warning, $"metadata.annotations[{Annotations.ConnectionDrainingTimeout}]",
                    $"ignored without {Annotations.ConnectionDraining}: \"true\", as on Application Gateway; the gateway's drain timeout applies"));
            }

            return null;
        }

        if (!bool.TryParse(enabled, out var on))
        {
            diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Error, $"metadata.annotations[{Annotations.ConnectionDraining}]",
                $"\"{enabled}\" is not \"true\" or \"false\"; the gateway's drain timeout applies"));
            return null;
        }

        if (!on)
        {
            return null;
        }

        if (!annotations.TryGetValue(Annotations.ConnectionDrainingTimeout, out var text))
        {
            return TimeSpan.FromSeconds(30);
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
            && seconds is >= 1 and <= 3600)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        diagnostics.Add(Diagnostic.For(source, DiagnosticSeverity.Error, $"metadata.annotations[{Annotations.ConnectionDrainingTimeout}]",
            $"\"{text}\" is not a whole number of seconds from 1 to 3600 (Application Gateway's range); 30 s applies"));
        return TimeSpan.FromSeconds(30);
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
