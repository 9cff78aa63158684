using Passerelle.Model;
using Passerelle.Model.Health;

namespace Passerelle.Health;

/// <summary>
/// The health of one endpoint under one probe, shared by its prober (writer) and the data plane (reader).
/// <see cref="IsAvailable"/> is read on every request without a lock. A passive failure (a connection the data
/// plane could not make) takes the endpoint out at once, until its next good probe.
/// </summary>
public sealed class EndpointHealth
{
    private readonly object _lock = new();
    private volatile bool _available = true;
    private TaskCompletionSource _wake = NewWake();

    internal EndpointHealth(BackendEndpoint endpoint, ProbeSpec probe, ProbeMode mode, string service)
    {
        Endpoint = endpoint;
        Probe = probe;
        Mode = mode;
        Service = service;
        Since = DateTimeOffset.UtcNow;
    }

    public BackendEndpoint Endpoint { get; }

    public ProbeSpec Probe { get; }

    /// <summary>The probe mode in force: the backend's own, else the gateway default.</summary>
    public ProbeMode Mode { get; }

    /// <summary>The Service the endpoint belongs to, for logs and error pages.</summary>
    public string Service { get; }

    /// <summary>May receive new connections: not unhealthy, and no passive failure since the last good probe.</summary>
    public bool IsAvailable => _available;

    public HealthState State { get; private set; }

    public DateTimeOffset Since { get; private set; }

    public int ConsecutiveFailures { get; private set; }

    public ProbeResult? LastResult { get; private set; }

    /// <summary>The last plain HTTP probe, the one Application Gateway would send; null in modes that send none.</summary>
    public ProbeResult? LastHttpResult { get; private set; }

    /// <summary>The data plane's last connection failure, until a probe succeeds.</summary>
    public string? PassiveFailure { get; private set; }

    /// <summary>In auto mode: the WebSocket handshake is the probe that works, so it is the one sent each interval.</summary>
    internal bool PrefersWebSocket { get; set; }

    /// <summary>The "Application Gateway would answer 502" warning was logged for this endpoint.</summary>
    internal bool RescueReported { get; set; }

    internal Task WakeRequested
    {
        get
        {
            lock (_lock)
            {
                return _wake.Task;
            }
        }
    }

    /// <summary>Records a probe result; returns the state it moved to, or null when the state did not change.</summary>
    internal HealthState? Record(ProbeResult result, ProbeResult? httpResult)
    {
        lock (_lock)
        {
            LastResult = result;
            if (httpResult is not null)
            {
                LastHttpResult = httpResult;
            }

            HealthState next;
            if (result.Healthy)
            {
                ConsecutiveFailures = 0;
                PassiveFailure = null;
                next = HealthState.Healthy;
            }
            else
            {
                ConsecutiveFailures++;
                next = ConsecutiveFailures >= Probe.UnhealthyThreshold ? HealthState.Unhealthy : State;
            }

            _available = next != HealthState.Unhealthy && PassiveFailure is null;
            if (next == State)
            {
                return null;
            }

            State = next;
            Since = result.At;
            return next;
        }
    }

    /// <summary>The data plane could not connect: no new connections until a probe succeeds, which is asked for now.</summary>
    public void RecordPassiveFailure(string reason)
    {
        lock (_lock)
        {
            PassiveFailure = reason;
            _available = false;
            _wake.TrySetResult();
        }
    }

    internal void ResetWake()
    {
        lock (_lock)
        {
            if (_wake.Task.IsCompleted)
            {
                _wake = NewWake();
            }
        }
    }

    /// <summary>One line for a 502 page: <c>127.0.0.2:8888 GET /ws -> 400 (3 consecutive failures)</c>.</summary>
    public string Describe()
    {
        lock (_lock)
        {
            if (PassiveFailure is not null)
            {
                return $"{Endpoint} {PassiveFailure}";
            }

            return LastResult is null
                ? $"{Endpoint} not probed yet"
                : $"{Endpoint} {LastResult.Description} ({ConsecutiveFailures} consecutive failure{(ConsecutiveFailures == 1 ? "" : "s")})";
        }
    }

    private static TaskCompletionSource NewWake() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
