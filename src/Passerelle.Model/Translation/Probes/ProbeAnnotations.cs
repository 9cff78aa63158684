using System.Globalization;
using Passerelle.Model.Diagnostics;
using Passerelle.Model.Health;
using Passerelle.Model.Objects;

namespace Passerelle.Model.Translation.Probes;

/// <summary>
/// The probe annotations of one Ingress, checked against Application Gateway's limits. A value that cannot be
/// used is reported as an error naming the annotation and left out (null); the other rules still apply.
/// </summary>
internal sealed class ProbeAnnotations
{
    /// <summary>Application Gateway's limits for a probe (ApplicationGatewayProbePropertiesFormat).</summary>
    public const int MaxSeconds = 86400;

    public const int MaxUnhealthyThreshold = 20;

    private const string Ignored = "ignored, the other probe rules apply";

    private readonly SourcedObject _ingress;
    private readonly IDictionary<string, string> _values;
    private readonly Action<Diagnostic> _report;

    private ProbeAnnotations(SourcedObject ingress, Action<Diagnostic> report)
    {
        _ingress = ingress;
        _values = ingress.Object.Metadata.Annotations ?? new Dictionary<string, string>();
        _report = report;
        BackendPathPrefix = ReadPath(Annotations.BackendPathPrefix, "a path prefix");
        BackendHostname = ReadHost(Annotations.BackendHostname);
        BackendProtocol = ReadProtocol();
        Hostname = ReadHost(Annotations.HealthProbeHostname);
        Port = ReadInteger(Annotations.HealthProbePort, 1, 65535, "a port", "a port number from 1 to 65535");
        Path = ReadPath(Annotations.HealthProbePath, "a probe path");
        StatusCodes = ReadStatusCodes();
        Interval = ReadInteger(Annotations.HealthProbeInterval, 1, MaxSeconds, "a probe interval",
            $"whole seconds from 1 to {MaxSeconds} (Application Gateway's range)");
        Timeout = ReadInteger(Annotations.HealthProbeTimeout, 1, MaxSeconds, "a probe timeout",
            $"whole seconds from 1 to {MaxSeconds} (Application Gateway's range)");
        UnhealthyThreshold = ReadInteger(Annotations.HealthProbeUnhealthyThreshold, 1, MaxUnhealthyThreshold, "an unhealthy threshold",
            $"a whole number from 1 to {MaxUnhealthyThreshold} (Application Gateway's range)");
        Mode = ReadMode();
    }

    public string? BackendPathPrefix { get; }
    public string? BackendHostname { get; }

    /// <summary><c>http</c> or <c>https</c>.</summary>
    public string? BackendProtocol { get; }

    public string? Hostname { get; }
    public int? Port { get; }
    public string? Path { get; }
    public StatusCodeRanges? StatusCodes { get; }
    public int? Interval { get; }
    public int? Timeout { get; }
    public int? UnhealthyThreshold { get; }
    public ProbeMode? Mode { get; }

    public static ProbeAnnotations Read(SourcedObject ingress, Action<Diagnostic> report) => new(ingress, report);

    /// <summary>How a derivation sentence names an annotation of this Ingress.</summary>
    public string Source(string name) => $"annotation {name} of {_ingress.Ref}";

    private string? ReadPath(string name, string what)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return null;
        }

        var value = text.Trim();
        if (value.StartsWith('/') && !value.Any(char.IsWhiteSpace))
        {
            return value;
        }

        Report(name, $"\"{text}\" is not {what}: it must start with \"/\" (for example \"/health\"); {Ignored}");
        return null;
    }

    private string? ReadHost(string name)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return null;
        }

        var value = text.Trim();
        if (Uri.CheckHostName(value) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6)
        {
            return value;
        }

        Report(name, $"\"{text}\" is not a host name: give a DNS name or IP address such as ws.contoso.com, without port or wildcard; {Ignored}");
        return null;
    }

    private string? ReadProtocol()
    {
        if (!_values.TryGetValue(Annotations.BackendProtocol, out var text))
        {
            return null;
        }

        var value = text.Trim().ToLowerInvariant();
        if (value is "http" or "https")
        {
            return value;
        }

        Report(Annotations.BackendProtocol, $"\"{text}\" is not a backend protocol: give http or https; {Ignored}");
        return null;
    }

    private int? ReadInteger(string name, int min, int max, string what, string expected)
    {
        if (!_values.TryGetValue(name, out var text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Report(name, $"\"{text}\" is not {what}: give {expected}; {Ignored}");
        return null;
    }

    private StatusCodeRanges? ReadStatusCodes()
    {
        if (!_values.TryGetValue(Annotations.HealthProbeStatusCodes, out var text))
        {
            return null;
        }

        if (StatusCodeRanges.TryParse(text, out var ranges, out var error))
        {
            return ranges;
        }

        Report(Annotations.HealthProbeStatusCodes, $"{error}; {Ignored}");
        return null;
    }

    private ProbeMode? ReadMode()
    {
        if (!_values.TryGetValue(Annotations.HealthProbeMode, out var text))
        {
            return null;
        }

        if (ProbeModes.TryParse(text, out var mode))
        {
            return mode;
        }

        Report(Annotations.HealthProbeMode, $"\"{text}\" is not a probe mode: give auto, http, websocket, tcp or appgw; ignored, the gateway default applies");
        return null;
    }

    private void Report(string name, string message) =>
        _report(Diagnostic.For(_ingress, DiagnosticSeverity.Error, $"metadata.annotations[{name}]", message));
}
