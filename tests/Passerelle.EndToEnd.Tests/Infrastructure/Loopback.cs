using System.Net;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Hands out loopback addresses so that each "pod" of each test has its own, as pods have in a cluster, and
/// tests running in parallel never collide. 127.0.0.2 and 127.0.0.3 are left to the founding document's
/// manifests (deploy/seed), which name them. The second octet comes from the process id, so that two test runs
/// on one machine do not hand out the same addresses.
/// </summary>
internal static class Loopback
{
    private static int _next;

    public static IPAddress NextAddress()
    {
        var n = Interlocked.Increment(ref _next);
        return new IPAddress([127, (byte)(10 + Environment.ProcessId % 200), (byte)(n / 250), (byte)(n % 250 + 2)]);
    }
}
