namespace Passerelle.Health;

public enum HealthState
{
    /// <summary>Not probed yet: gets traffic, as every endpoint does on Application Gateway until a probe says otherwise.</summary>
    Unknown,

    Healthy,

    /// <summary>The probe failed <c>UnhealthyThreshold</c> times in a row: no traffic until a probe succeeds.</summary>
    Unhealthy,
}
