using k8s;
using k8s.Autorest;
using k8s.LeaderElection;
using k8s.LeaderElection.ResourceLock;
using Microsoft.Extensions.Logging;

namespace Passerelle.Kubernetes.Api.Status;

/// <summary>
/// Elects, with a Lease and KubernetesClient's <see cref="LeaderElector"/>, the one replica that writes Ingress
/// status; every replica serves traffic whatever the outcome. A leader that stops gracefully releases the Lease
/// (as client-go's ReleaseOnCancel) so that another replica takes over within a retry period instead of a whole
/// lease duration.
/// </summary>
internal sealed partial class StatusLeadership
{
    private readonly IKubernetes _client;
    private readonly KubernetesApiOptions _options;
    private readonly string _namespace;
    private readonly ILogger _logger;
    private volatile bool _leading;

    public StatusLeadership(IKubernetes client, KubernetesApiOptions options, string ownNamespace, ILogger logger)
    {
        _client = client;
        _options = options;
        _namespace = options.LeaseNamespace ?? ownNamespace;
        _logger = logger;
        // As client-go: the pod's name, made unique so that a restarted pod is a new candidate.
        var name = Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod ? pod : Environment.MachineName;
        Identity = options.Identity ?? $"{name}_{Guid.NewGuid().ToString("N")[..8]}";
    }

    public string Identity { get; }

    public string Lease => $"{_namespace}/{_options.LeaseName}";

    public bool IsLeader => _leading;

    /// <summary>Grows when this replica starts or stops leading.</summary>
    public ChangeSignal Changes { get; } = new();

    public async Task RunAsync(CancellationToken stop)
    {
        var delay = new RetryDelay(_options.LeaseRetryPeriod, _options.MaxRetryDelay);
        var failures = 0;
        using var elector = new LeaderElector(new LeaderElectionConfig(new LeaseLock(_client, _namespace, _options.LeaseName, Identity))
        {
            LeaseDuration = _options.LeaseDuration,
            RenewDeadline = _options.RenewDeadline,
            RetryPeriod = _options.LeaseRetryPeriod,
        });
        elector.OnStartedLeading += () =>
        {
            // Logged before leading starts, so that the line comes before any status write it announces.
            Log.Leading(_logger, Identity, Lease);
            _leading = true;
            Changes.Notify();
        };
        elector.OnStoppedLeading += () =>
        {
            if (_leading)
            {
                _leading = false;
                if (!stop.IsCancellationRequested)
                {
                    Log.StoppedLeading(_logger, Identity, Lease);
                }

                Changes.Notify();
            }
        };
        elector.OnNewLeader += leader =>
        {
            if (!string.IsNullOrEmpty(leader) && leader != Identity)
            {
                Log.OtherLeader(_logger, leader, Lease);
            }
        };
        elector.OnError += e => Log.ElectionError(_logger, Reflector.Describe(e));

        try
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await elector.RunUntilLeadershipLostAsync(stop).ConfigureAwait(false);
                    failures = 0;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e)
                {
                    // The elector lets transport errors escape while it tries to acquire; the API being away is
                    // reported by the object source, so this only waits and tries again.
                    Log.ElectionError(_logger, Reflector.Describe(e));
                    await Task.Delay(delay.For(++failures), stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            if (_leading || elector.IsLeader())
            {
                _leading = false;
                await ReleaseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Empties the Lease's holder if it is still this replica, so that the next leader need not wait for it to expire.</summary>
    private async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            var lease = await _client.CoordinationV1.ReadNamespacedLeaseAsync(_options.LeaseName, _namespace, cancellationToken: timeout.Token).ConfigureAwait(false);
            if (lease.Spec?.HolderIdentity != Identity)
            {
                return;
            }

            lease.Spec.HolderIdentity = "";
            lease.Spec.LeaseDurationSeconds = 1;
            lease.Spec.RenewTime = DateTime.UtcNow;
            await _client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, _options.LeaseName, _namespace, cancellationToken: timeout.Token).ConfigureAwait(false);
            Log.Released(_logger, Identity, Lease);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or OperationCanceledException or IOException)
        {
            // The Lease then expires on its own after its duration.
            Log.ElectionError(_logger, Reflector.Describe(e));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3020, EventName = "StatusLeaderElected", Level = LogLevel.Information,
            Message = "This replica ({Identity}) now writes Ingress status (leader of Lease {Lease})")]
        public static partial void Leading(ILogger logger, string identity, string lease);

        [LoggerMessage(EventId = 3021, EventName = "StatusLeadershipLost", Level = LogLevel.Warning,
            Message = "This replica ({Identity}) stopped writing Ingress status (Lease {Lease} not renewed in time); it keeps serving traffic")]
        public static partial void StoppedLeading(ILogger logger, string identity, string lease);

        [LoggerMessage(EventId = 3022, EventName = "StatusLeaderObserved", Level = LogLevel.Information,
            Message = "Ingress status is written by {Leader} (Lease {Lease})")]
        public static partial void OtherLeader(ILogger logger, string leader, string lease);

        [LoggerMessage(EventId = 3023, EventName = "StatusLeaseReleased", Level = LogLevel.Information,
            Message = "Released Lease {Lease} held by {Identity} so that another replica takes over at once")]
        public static partial void Released(ILogger logger, string identity, string lease);

        [LoggerMessage(EventId = 3024, EventName = "StatusLeaderElectionError", Level = LogLevel.Debug,
            Message = "Leader election: {Error}")]
        public static partial void ElectionError(ILogger logger, string error);
    }
}
