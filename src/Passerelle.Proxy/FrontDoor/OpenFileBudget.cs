namespace Passerelle.Proxy.FrontDoor;

/// <summary>
/// How many connections the traffic port may hold so that the process never runs out of file descriptors. Each
/// connection is counted for two descriptors (the client's and the backend's, a proxied WebSocket's case), and what
/// the process already has open at start, plus a margin, stays free for the runtime, the manifests, the probes, the
/// Kubernetes API and the pipes that splice large messages.
/// </summary>
internal static class OpenFileBudget
{
    /// <summary>Descriptors kept free on top of those open at start, the splice pipes' included.</summary>
    private const int Margin = 64 + (2 * Reactor.SplicePipe.MaxPipes);

    private const int Minimum = 16;

    /// <summary>The limit for a process whose soft open-file limit is <paramref name="fileLimit"/> with <paramref name="inUse"/> open.</summary>
    public static int ConnectionLimit(long? fileLimit, int inUse) =>
        fileLimit is not { } limit ? int.MaxValue : (int)Math.Clamp((limit - inUse - Margin) / 2, Minimum, int.MaxValue);

    /// <summary>The limit for this process, from <c>/proc/self/limits</c> and <c>/proc/self/fd</c> (no limit where they cannot be read).</summary>
    public static (int Connections, long? FileLimit) ForThisProcess()
    {
        try
        {
            var fileLimit = SoftFileLimit(File.ReadAllLines("/proc/self/limits"));
            var inUse = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
            return (ConnectionLimit(fileLimit, inUse), fileLimit);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (int.MaxValue, null);
        }
    }

    /// <summary>The soft limit of "Max open files", or null when unlimited or absent.</summary>
    internal static long? SoftFileLimit(IEnumerable<string> limits)
    {
        foreach (var line in limits)
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                var soft = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.TryParse(soft, out var value) ? value : null;
            }
        }

        return null;
    }
}
