using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Passerelle.Model.Objects;
using Passerelle.Model.Translation;

namespace Passerelle.Kubernetes.Api.Status;

/// <summary>
/// Writes the published addresses to <c>status.loadBalancer.ingress</c> of every Ingress the gateway serves,
/// from the leader replica only, and only where the status differs: an Ingress whose status is already right
/// costs no API call. An Ingress that stops being Passerelle's (its class changed) has the gateway's addresses
/// removed, unless another controller has written its own since. A failed update is retried with backoff.
/// </summary>
public sealed partial class IngressStatusPublisher
{
    private readonly IKubernetes _client;
    private readonly KubernetesObjectSource _source;
    private readonly KubernetesApiOptions _options;
    private readonly IngressClassPolicy _classes;
    private readonly StatusLeadership _leadership;
    private readonly ILogger _logger;
    private readonly RetryDelay _delay;

    // What this replica last wrote to each Ingress, and the resourceVersion it saw before writing: until the
    // watch brings a newer version, the store still shows the old status, which must not cause a second write.
    private readonly Dictionary<ObjectRef, (string Addresses, string? SeenVersion)> _written = [];
    private readonly HashSet<ObjectRef> _failing = [];
    private bool _waitingReported;

    public IngressStatusPublisher(IKubernetes client, KubernetesObjectSource source, KubernetesApiOptions options, string ownNamespace,
        ILogger<IngressStatusPublisher> logger)
    {
        _client = client;
        _source = source;
        _options = options;
        _classes = options.ClassPolicy;
        _logger = logger;
        _delay = new RetryDelay(options.RetryDelay, options.MaxRetryDelay);
        _leadership = new StatusLeadership(client, options, ownNamespace, logger);
    }

    /// <summary>This replica's name in the Lease.</summary>
    public string Identity => _leadership.Identity;

    public bool IsLeader => _leadership.IsLeader;

    /// <summary>For <c>/readyz</c>.</summary>
    public object Readiness => new { lease = _leadership.Lease, identity = _leadership.Identity, leader = _leadership.IsLeader };

    /// <summary>Runs leader election and, while leading, keeps the Ingresses' status right, until <paramref name="stop"/>.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var election = Task.Run(() => _leadership.RunAsync(stop), CancellationToken.None);
        try
        {
            var failures = 0;
            while (!stop.IsCancellationRequested)
            {
                var seenObjects = _source.Changes.Version;
                var seenLeadership = _leadership.Changes.Version;
                var retry = false;
                if (_leadership.IsLeader && _source.Complete)
                {
                    retry = !await ReconcileAsync(stop).ConfigureAwait(false);
                }

                failures = retry ? failures + 1 : 0;
                using var wake = CancellationTokenSource.CreateLinkedTokenSource(stop);
                if (retry)
                {
                    wake.CancelAfter(_delay.For(failures));
                }

                try
                {
                    await Task.WhenAny(
                        _source.Changes.WaitAsync(seenObjects, wake.Token),
                        _leadership.Changes.WaitAsync(seenLeadership, wake.Token)).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            await election.ConfigureAwait(false);
        }
    }

    /// <summary>Brings every Ingress's status in line; false when an update failed and should be retried.</summary>
    private async Task<bool> ReconcileAsync(CancellationToken stop)
    {
        var objects = _source.Objects();
        var addresses = PublishedAddresses.Resolve(_options, objects);
        if (addresses is null)
        {
            if (!_waitingReported)
            {
                _waitingReported = true;
                Log.WaitingForAddress(_logger, _options.PublishService ?? "");
            }

            return true;
        }

        _waitingReported = false;
        var ours = _classes.ClaimedIngresses(objects).Select(i => i.Ref).ToHashSet();
        var allDone = true;
        foreach (var source in objects.Ingresses)
        {
            var ingress = (V1Ingress)source.Object;
            var current = ingress.Status?.LoadBalancer?.Ingress;
            IReadOnlyList<V1IngressLoadBalancerIngress>? desired;
            if (ours.Contains(source.Ref))
            {
                desired = addresses;
            }
            else if (current is { Count: > 0 } && PublishedAddresses.Same(current, addresses))
            {
                desired = [];
            }
            else
            {
                _written.Remove(source.Ref);
                continue;
            }

            if (PublishedAddresses.Same(current, desired))
            {
                continue;
            }

            var text = PublishedAddresses.Describe(desired);
            if (_written.TryGetValue(source.Ref, out var written) && written.Addresses == text && written.SeenVersion == ingress.Metadata?.ResourceVersion)
            {
                continue;
            }

            allDone &= await WriteAsync(source, desired, text, stop).ConfigureAwait(false);
        }

        return allDone;
    }

    private async Task<bool> WriteAsync(SourcedObject source, IReadOnlyList<V1IngressLoadBalancerIngress> desired, string text, CancellationToken stop)
    {
        var ingress = (V1Ingress)source.Object;

        // A merge patch of the status subresource: it replaces the address list and touches nothing else, and
        // needs no resourceVersion, so a concurrent spec change never makes it fail.
        var patch = new V1Patch(
            KubernetesJson.Serialize(new V1Ingress
            {
                Status = new V1IngressStatus { LoadBalancer = new V1IngressLoadBalancerStatus { Ingress = desired.ToList() } },
            }),
            V1Patch.PatchType.MergePatch);
        try
        {
            await _client.NetworkingV1.PatchNamespacedIngressStatusAsync(patch, ingress.Metadata.Name, ingress.Metadata.NamespaceProperty,
                fieldManager: "passerelle", cancellationToken: stop).ConfigureAwait(false);
            _written[source.Ref] = (text, ingress.Metadata.ResourceVersion);
            _failing.Remove(source.Ref);
            Log.StatusWritten(_logger, source.Ref.ToString(), desired.Count == 0 ? "(none)" : text);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            if (_failing.Add(source.Ref))
            {
                Log.StatusFailed(_logger, source.Ref.ToString(), Reflector.Describe(e));
            }

            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3030, EventName = "IngressStatusWritten", Level = LogLevel.Information,
            Message = "Set status.loadBalancer.ingress of {Ingress} to {Addresses}")]
        public static partial void StatusWritten(ILogger logger, string ingress, string addresses);

        [LoggerMessage(EventId = 3031, EventName = "IngressStatusFailed", Level = LogLevel.Warning,
            Message = "Cannot update the status of {Ingress} ({Error}); retrying with backoff")]
        public static partial void StatusFailed(ILogger logger, string ingress, string error);

        [LoggerMessage(EventId = 3032, EventName = "IngressStatusWaiting", Level = LogLevel.Information,
            Message = "Service {Service} has no LoadBalancer address yet; Ingress status will be written once it has one")]
        public static partial void WaitingForAddress(ILogger logger, string service);
    }
}
