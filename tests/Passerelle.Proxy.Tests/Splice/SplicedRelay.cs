using System.Net.Sockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Passerelle.Proxy.Reactor;
using Passerelle.Proxy.Splice;
using Passerelle.Proxy.Tunnels;
using Passerelle.Proxy.Tests.Reactor;

namespace Passerelle.Proxy.Tests.Splice;

/// <summary>
/// A relay as the gateway runs it on the reactors: client peer, client socket and backend socket on one reactor
/// (as a WebSocket's two sides are), backend peer, all on real loopback connections, with
/// <see cref="Relay.RunAsync"/> between them.
/// </summary>
internal sealed class SplicedRelay : IAsyncDisposable
{
    private SplicedRelay(Socket clientPeer, Socket backendPeer, TunnelStream client, TunnelStream backend, Task run)
    {
        ClientPeer = clientPeer;
        BackendPeer = backendPeer;
        Client = client;
        Backend = backend;
        Run = run;
    }

    /// <summary>Plays the WebSocket client.</summary>
    public Socket ClientPeer { get; }

    /// <summary>Plays the backend server.</summary>
    public Socket BackendPeer { get; }

    /// <summary>The client's side: the backend's frames are written into it.</summary>
    public TunnelStream Client { get; }

    /// <summary>The backend's side: the client's frames are written into it.</summary>
    public TunnelStream Backend { get; }

    /// <summary>The relay; it ends once both directions are done.</summary>
    public Task Run { get; }

    public static async Task<SplicedRelay> StartAsync()
    {
        var reactor = Reactors.Pick();
        var (client, clientPeer) = await Loopback.AdoptedPairAsync(reactor: reactor);
        var (backend, backendPeer) = await Loopback.AdoptedPairAsync(reactor: reactor);
        var clientEnd = new ReactorStream(client, ownsSocket: true);
        var backendEnd = new ReactorStream(backend, ownsSocket: true);
        var tunnel = new WebSocketTunnel(new UpgradedConnections(NullLogger<UpgradedConnections>.Instance), new DefaultHttpContext(),
            "127.0.0.1:8888", "default/web", NullLogger.Instance);
        var clientSide = new TunnelStream(clientEnd, towardsServer: false);
        var backendSide = new TunnelStream(backendEnd, towardsServer: true);

        // As for the front door's client socket: its reads are stopped by ending them (clientReads), not by a token.
        var run = Relay.RunAsync(clientSide, backendSide, backendEnd, tunnel, clientEnd);
        return new SplicedRelay(clientPeer, backendPeer, clientSide, backendSide, run);
    }

    /// <summary>Ends whatever a failed test left running: peers gone, the relay ends, the client's side is closed (the relay leaves it to its owner).</summary>
    public async ValueTask DisposeAsync()
    {
        ClientPeer.Dispose();
        BackendPeer.Dispose();
        await Run.WaitAsync(Loopback.Deadline);
        await Client.DisposeAsync();
    }
}
