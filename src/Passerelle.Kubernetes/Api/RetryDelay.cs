namespace Passerelle.Kubernetes.Api;

/// <summary>
/// Exponential backoff with jitter: the delay doubles with each consecutive failure up to a ceiling, and each
/// wait is drawn between half and all of it, so that many replicas that lost the API together do not come back
/// to it in step.
/// </summary>
internal sealed class RetryDelay(TimeSpan first, TimeSpan ceiling)
{
    public TimeSpan For(int failures)
    {
        var exponent = Math.Clamp(failures - 1, 0, 30);
        var full = Math.Min(ceiling.TotalMilliseconds, first.TotalMilliseconds * Math.Pow(2, exponent));
        return TimeSpan.FromMilliseconds(full * (0.5 + Random.Shared.NextDouble() / 2));
    }
}
