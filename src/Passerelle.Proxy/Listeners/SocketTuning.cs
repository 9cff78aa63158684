using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Passerelle.Proxy.Listeners;

/// <summary>
/// How the gateway's sockets run their completions. A proxy's work per completion is short and never blocks (read,
/// track frames, write to the other socket), so socket completions, and Kestrel's pipe readers and writers after
/// them, run inline on the socket engine's threads (one per core) instead of hopping to the thread pool and to
/// Kestrel's I/O queues: a message crosses the gateway on one thread, with no context switch. Measured on one core
/// with 40 WebSockets ping-ponging: 14-15 µs of CPU per proxied message against 21-22 µs with .NET's defaults.
/// The cost is for large messages, which Kestrel receives 4 KiB at a time (<see cref="Splice.TransportStream"/>
/// batches them): 1 MiB messages take about 1.5 times the CPU. Set <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0</c>
/// for .NET's defaults. Code that runs inline must never block: the console logger drops lines rather than wait.
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

    /// <summary>
    /// Kestrel's socket transport, scheduling inline when socket completions are inline, and the front door on the
    /// traffic port (<see cref="FrontDoor.FrontDoorListener"/>). The front door is registered after the socket
    /// transport: Kestrel asks the last registered transport first.
    /// </summary>
    public static IWebHostBuilder UseGatewaySockets(this IWebHostBuilder web) =>
        web.UseSockets(o => o.UnsafePreferInlineScheduling = InlineCompletions)
            .ConfigureServices(services => services.AddSingleton<IConnectionListenerFactory, FrontDoor.FrontDoorTransport>());
}
