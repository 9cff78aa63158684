using Passerelle.Model;

namespace Passerelle.Proxy.Runtime;

/// <summary>
/// One backend endpoint as the data plane uses it: its URL prefix for the forwarder and its passive health,
/// which survives snapshot swaps so that a config change elsewhere does not forget a failing endpoint.
/// </summary>
internal sealed class Destination
{
    private long _avoidUntilMs;

    public Destination(BackendEndpoint endpoint)
    {
        Endpoint = endpoint;
        Prefix = $"http://{endpoint}/";
    }

    public BackendEndpoint Endpoint { get; }

    public string Prefix { get; }

    public bool IsAvoided(long nowMs) => Volatile.Read(ref _avoidUntilMs) > nowMs;

    /// <summary>A connection to this endpoint failed: prefer the others for <paramref name="period"/>.</summary>
    public void Avoid(long nowMs, TimeSpan period) => Volatile.Write(ref _avoidUntilMs, nowMs + (long)period.TotalMilliseconds);

    public void CopyHealthFrom(Destination previous) => _avoidUntilMs = Volatile.Read(ref previous._avoidUntilMs);

    public override string ToString() => Endpoint.ToString();
}
