using Passerelle.Model.Health;

namespace Passerelle.Health;

/// <summary>Gateway-wide probing settings; per-backend settings come from the probe derivation.</summary>
public sealed class HealthOptions
{
    /// <summary>The probe mode of backends whose Ingress sets no <c>passerelle.io/health-probe-mode</c>. Default auto.</summary>
    public ProbeMode DefaultMode { get; set; } = ProbeMode.Auto;

    /// <summary>How many probes may run at the same moment, so that thousands of endpoints do not probe in a burst. Default 64.</summary>
    public int MaxConcurrentProbes { get; set; } = 64;

    /// <summary>
    /// After a connection to an endpoint fails in the data plane, how soon its prober checks it again (doubling
    /// on each further failure, up to the probe interval). Default 1 s.
    /// </summary>
    public TimeSpan PassiveRecheckDelay { get; set; } = TimeSpan.FromSeconds(1);

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxConcurrentProbes < 1)
        {
            errors.Add("--max-concurrent-probes must be at least 1");
        }

        if (PassiveRecheckDelay <= TimeSpan.Zero)
        {
            errors.Add("the passive recheck delay must be positive");
        }

        return errors;
    }
}
