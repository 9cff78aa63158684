using System.Globalization;
using Passerelle.Model.Health;

namespace Passerelle.Model.Translation.Probes;

/// <summary>
/// A probe being derived: each rule sets values with the sentence that says where they came from. Values no rule
/// set keep Application Gateway's defaults, which the first sentence lists.
/// </summary>
internal sealed class ProbeDraft
{
    private readonly List<string> _steps = [];
    private readonly HashSet<Field> _set = [];

    public ProbeDraft(int? endpointPort)
    {
        EndpointPort = endpointPort;
    }

    private enum Field
    {
        Scheme,
        Host,
        Path,
        Port,
        Interval,
        Timeout,
        Threshold,
        Statuses,
        Mode,
    }

    /// <summary>The port the endpoints serve (the Service's targetPort), when it is known.</summary>
    public int? EndpointPort { get; }

    public ProbeMode? Mode { get; private set; } = ProbeSpec.Default.Mode;
    public string Scheme { get; private set; } = ProbeSpec.Default.Scheme;
    public string Host { get; private set; } = ProbeSpec.Default.Host;
    public string Path { get; private set; } = ProbeSpec.Default.Path;
    public int? Port { get; private set; } = ProbeSpec.Default.Port;
    public int IntervalSeconds { get; private set; } = (int)ProbeSpec.Default.Interval.TotalSeconds;
    public int TimeoutSeconds { get; private set; } = (int)ProbeSpec.Default.Timeout.TotalSeconds;
    public int UnhealthyThreshold { get; private set; } = ProbeSpec.Default.UnhealthyThreshold;
    public StatusCodeRanges HealthyStatuses { get; private set; } = ProbeSpec.Default.HealthyStatuses;

    /// <summary>A sentence that explains the derivation without setting a value (a probe ignored, a wildcard host kept out).</summary>
    public void Note(string step) => _steps.Add(step);

    public void SetScheme(string scheme, string source) => Set(Field.Scheme, () => Scheme = scheme, $"scheme {scheme} from {source}");

    public void SetHost(string host, string source) => Set(Field.Host, () => Host = host, $"host \"{host}\" from {source}");

    public void SetPath(string path, string source) => Set(Field.Path, () => Path = path, $"path \"{path}\" from {source}");

    /// <summary>Sets the probed port; the endpoint's own port is kept as "no port" so that the probe follows the endpoints.</summary>
    public void SetPort(int port, string source)
    {
        var own = port == EndpointPort;
        Set(Field.Port, () => Port = own ? null : port, $"port {port} from {source}{(own ? ", the endpoint's port" : "")}");
    }

    public void SetInterval(int seconds, string source) =>
        Set(Field.Interval, () => IntervalSeconds = seconds, $"interval {seconds}s from {source}");

    public void SetTimeout(int seconds, string source) =>
        Set(Field.Timeout, () => TimeoutSeconds = seconds, $"timeout {seconds}s from {source}");

    public void SetUnhealthyThreshold(int threshold, string source) =>
        Set(Field.Threshold, () => UnhealthyThreshold = threshold, $"unhealthy threshold {threshold} from {source}");

    public void SetHealthyStatuses(StatusCodeRanges statuses, string source) =>
        Set(Field.Statuses, () => HealthyStatuses = statuses, $"healthy {statuses} from {source}");

    public void SetMode(ProbeMode mode, string source) => Set(Field.Mode, () => Mode = mode, $"mode {ProbeModes.Name(mode)} from {source}");

    public ProbeSpec Build()
    {
        var defaults = new List<string>();
        Default(Field.Scheme, $"scheme {Scheme}");
        Default(Field.Host, $"host \"{Host}\"");
        Default(Field.Path, $"path \"{Path}\"");
        Default(Field.Port, "the endpoint's port");
        Default(Field.Interval, $"interval {Seconds(IntervalSeconds)}");
        Default(Field.Timeout, $"timeout {Seconds(TimeoutSeconds)}");
        Default(Field.Threshold, $"unhealthy threshold {UnhealthyThreshold}");
        Default(Field.Statuses, $"healthy {HealthyStatuses}");
        var steps = new List<string>(_steps.Count + 1);
        if (defaults.Count > 0)
        {
            steps.Add($"{string.Join(", ", defaults)} from Application Gateway's default probe");
        }

        steps.AddRange(_steps);
        return new ProbeSpec(Mode, Scheme, Host, Path, Port, TimeSpan.FromSeconds(IntervalSeconds), TimeSpan.FromSeconds(TimeoutSeconds),
            UnhealthyThreshold, HealthyStatuses)
        {
            Derivation = steps,
        };

        void Default(Field field, string text)
        {
            if (!_set.Contains(field))
            {
                defaults.Add(text);
            }
        }
    }

    private static string Seconds(int seconds) => seconds.ToString(CultureInfo.InvariantCulture) + "s";

    private void Set(Field field, Action apply, string step)
    {
        apply();
        _set.Add(field);
        _steps.Add(step);
    }
}
