namespace Passerelle.Model.Health;

/// <summary>
/// How one backend pool's endpoints are probed, derived from the Ingress, the pod's readiness or liveness probe
/// and annotations with AGIC's rules (docs/health-probes.md). <see cref="Mode"/> null means the gateway-wide
/// default. <see cref="Port"/> null means each endpoint's own port. <see cref="Derivation"/> says where each
/// value came from, for <c>passerelle doctor</c>; it takes no part in equality.
/// </summary>
public sealed record ProbeSpec(
    ProbeMode? Mode,
    string Scheme,
    string Host,
    string Path,
    int? Port,
    TimeSpan Interval,
    TimeSpan Timeout,
    int UnhealthyThreshold,
    StatusCodeRanges HealthyStatuses)
{
    /// <summary>Application Gateway's default probe, before any rule applies.</summary>
    public static readonly ProbeSpec Default = new(null, "http", "localhost", "/", null,
        TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), 3, StatusCodeRanges.Default);

    public IReadOnlyList<string> Derivation { get; init; } = [];

    /// <summary>A stable text that identifies the probe's behaviour, used in pool keys and logs.</summary>
    public string Key =>
        $"{(Mode is { } m ? ProbeModes.Name(m) : "default")} {Scheme}://{Host}{(Port is { } p ? $":{p}" : "")}{Path} " +
        $"every {Interval.TotalSeconds}s timeout {Timeout.TotalSeconds}s after {UnhealthyThreshold} [{HealthyStatuses}]";

    public bool Equals(ProbeSpec? other) =>
        other is not null && Mode == other.Mode && Scheme == other.Scheme && Host == other.Host && Path == other.Path
        && Port == other.Port && Interval == other.Interval && Timeout == other.Timeout
        && UnhealthyThreshold == other.UnhealthyThreshold && HealthyStatuses.Equals(other.HealthyStatuses);

    public override int GetHashCode() => HashCode.Combine(Mode, Host, Path, Port, Interval);

    public override string ToString() => Key;
}
