using Microsoft.AspNetCore.Hosting;

namespace Passerelle.Proxy.Listeners;

/// <summary>
/// How the gateway's sockets run their completions. A proxy's work per completion is short and never blocks
/// (read, track frames, write to the other socket), so running it inline on the socket engine's thread, instead of
/// queueing it to the thread pool and then to Kestrel's I/O queue, saves two thread hops per message: about a third
/// of the CPU time of a proxied WebSocket message, measured with bench/. Set
/// <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> to run completions on the thread pool as .NET does by default.
/// </summary>
public static class SocketTuning
{
    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>True when socket completions run inline (the default for the gateway).</summary>
    public static bool InlineCompletions => Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1";

    /// <summary>
    /// Turns inline socket completions on unless the environment says otherwise. .NET reads the setting when the
    /// first socket is created, so this must run first thing in the process.
    /// </summary>
    public static void ApplyProcessDefaults()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
    }

    /// <summary>Kestrel's socket transport, scheduling inline when socket completions are inline.</summary>
    public static IWebHostBuilder UseGatewaySockets(this IWebHostBuilder web) =>
        web.UseSockets(o => o.UnsafePreferInlineScheduling = InlineCompletions);
}
