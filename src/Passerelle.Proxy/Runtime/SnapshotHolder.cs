using Passerelle.Health;
using System.Net.WebSockets;
using Passerelle.Model;
using Passerelle.Proxy.Tunnels;

namespace Passerelle.Proxy.Runtime;

/// <summary>
/// Owns the current <see cref="RuntimeSnapshot"/>. Readers take <see cref="Current"/> once per request; one
/// writer (the configuration loop) publishes new models, and the health monitor follows each one.
/// </summary>
public sealed class SnapshotHolder
{
    private readonly GatewayOptions _options;
    private readonly HealthMonitor _health;
    private readonly EndpointDrainer _drainer;
    private readonly object _writeLock = new();
    private RuntimeSnapshot _current;

    public SnapshotHolder(GatewayOptions options, HealthMonitor health, UpgradedConnections connections)
    {
        _options = options;
        _health = health;
        _current = RuntimeSnapshot.Empty(health);
        _drainer = new EndpointDrainer(options, (endpoint, after, cancellationToken) =>
            connections.CloseAsync(endpoint, WebSocketCloseStatus.EndpointUnavailable, after, options.CloseSpread, cancellationToken));
    }

    /// <summary>Endpoints that left service and whose WebSockets are being drained.</summary>
    public IReadOnlyCollection<string> Draining => _drainer.Draining;

    public GatewayModel Model => Volatile.Read(ref _current).Model;

    public long Generation => Volatile.Read(ref _current).Generation;

    /// <summary>True once a first configuration has been published.</summary>
    public bool HasConfiguration => Generation > 0;

    internal RuntimeSnapshot Current => Volatile.Read(ref _current);

    public long Publish(GatewayModel model)
    {
        long generation;
        lock (_writeLock)
        {
            var previous = _current;
            var next = RuntimeSnapshot.Create(model, _options, _health, previous);
            Volatile.Write(ref _current, next);
            generation = next.Generation;
            _health.Reconcile(model);
            _drainer.Apply(previous.Model, model);
        }

        return generation;
    }
}
