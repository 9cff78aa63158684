using Microsoft.AspNetCore.Hosting;

namespace Passerelle.Proxy.Listeners;

/// <summary>
/// How the gateway's sockets run their completions. A proxy's work per completion is short and never blocks (read,
/// track frames, write to the other socket), so socket completions run inline on the socket engine's thread instead
/// of being queued to the thread pool: about 10% less CPU per proxied WebSocket message (bench/ pingpong, 28.8-31.7
/// against 33.0-34.6 µs). Kestrel's own scheduling stays as it is: running its pipe readers inline as well
/// (<c>UnsafePreferInlineScheduling</c>) saved nothing on small messages and made 1 MiB messages cost 1.6 times more
/// CPU, each 4 KiB receive being passed on alone. Set <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c> to run
/// completions on the thread pool as .NET does by default.
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

    /// <summary>Kestrel's socket transport, with its pipe readers scheduled on its I/O queues (see above).</summary>
    public static IWebHostBuilder UseGatewaySockets(this IWebHostBuilder web) =>
        web.UseSockets(o => o.UnsafePreferInlineScheduling = false);
}
