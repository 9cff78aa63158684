using Passerelle.Model;
using Passerelle.Model.Health;
using Passerelle.Model.Objects;

namespace Passerelle.Health.Tests.Infrastructure;

/// <summary>Builds probe specs, pools and gateway models by hand.</summary>
internal static class Models
{
    public const string ProbeHost = "probe.test";

    /// <summary>
    /// The probe timeout of tests that are not about timeouts: far above what a loopback answer takes even on a
    /// loaded machine (a first request there, with its connection set up and code compiled, can take more than a
    /// second), so that only a test that asks for a short timeout ever sees "no answer within".
    /// </summary>
    public static readonly TimeSpan RelaxedTimeout = TimeSpan.FromSeconds(15);

    public static ProbeSpec Probe(
        ProbeMode? mode = null,
        string path = "/health",
        TimeSpan? interval = null,
        TimeSpan? timeout = null,
        int threshold = 2,
        string statuses = "200-399",
        int? port = null)
    {
        Assert.True(StatusCodeRanges.TryParse(statuses, out var ranges, out var error), error);
        return new ProbeSpec(mode, "http", ProbeHost, path, port, interval ?? TimeSpan.FromMilliseconds(200),
            timeout ?? RelaxedTimeout, threshold, ranges);
    }

    public static EndpointHealth Health(BackendEndpoint endpoint, ProbeSpec probe, ProbeMode mode = ProbeMode.Auto) =>
        new(endpoint, probe, mode, "Service default/chat");

    public static BackendPool Pool(string service, ProbeSpec probe, params BackendEndpoint[] endpoints) =>
        new(BackendPool.KeyFor("default", service, "80", probe), new ObjectRef("Service", "default", service), "80", endpoints, null, probe);

    public static GatewayModel Gateway(params BackendPool[] pools) =>
        new([], null, pools.ToDictionary(p => p.Key), []);

    public static ProbeResult Result(bool healthy, string description, int? status = null) =>
        new(healthy, ProbeMode.Http, description, TimeSpan.FromMilliseconds(3), DateTimeOffset.UtcNow) { StatusCode = status };
}
