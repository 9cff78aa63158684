using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// The founding document end to end: its manifests verbatim (deploy/seed), two "pods" on 127.0.0.2:8888 and
/// 127.0.0.3:8888 played by Debian's websocketd (built on gorilla/websocket, which accepts the document's
/// <c>Sec-WebSocket-Key: 123</c>), and the document's own curl command through the gateway.
/// </summary>
[Collection(SeedPods.Collection)]
public sealed class SeedScenarioTests
{
    [Fact]
    public async Task TheFoundingDocumentsCurlCommandGets101FromTheBackendThroughTheGateway()
    {
        await using var pods = await SeedPods.StartWebsocketdAsync();
        await using var gateway = await GatewayUnderTest.StartOnCopyOfAsync(Path.Combine(GatewayUnderTest.RepositoryRoot, "deploy", "seed"));

        // The document's command, word for word, with the gateway's address in place of 1.2.3.4:80. curl keeps
        // an upgraded connection open forever and prints what it received only when it exits, hence --max-time.
        var (_, _, output) = await ExternalProcess.RunCapturingAsync(TimeSpan.FromSeconds(30), "curl", "-i", "-N",
            "-H", "Connection: Upgrade",
            "-H", "Upgrade: websocket",
            "-H", "Origin: http://localhost",
            "-H", "Host: ws.contoso.com",
            "-H", "Sec-Websocket-Version: 13",
            "-H", "Sec-WebSocket-Key: 123",
            $"http://127.0.0.1:{gateway.Port}/ws",
            "--max-time", "2");

        Assert.StartsWith("HTTP/1.1 101 Switching Protocols", output.TrimStart());

        // The accept value is the backend's answer to the key "123" itself: the key crossed the gateway untouched.
        var expectedAccept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes("123258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
        Assert.Contains($"Sec-WebSocket-Accept: {expectedAccept}", output, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task APython3WebsocketsClientEchoesThroughTheSeedRouteOnBothReplicas()
    {
        await using var pods = await SeedPods.StartWebsocketdAsync();
        await using var gateway = await GatewayUnderTest.StartOnCopyOfAsync(Path.Combine(GatewayUnderTest.RepositoryRoot, "deploy", "seed"));

        // python3-websockets connects to the gateway's address while naming ws.contoso.com in Host, like a
        // client resolving ws.contoso.com to the gateway's public IP.
        var script = $$"""
            import asyncio, websockets
            async def main():
                for i in range(6):
                    async with websockets.connect("ws://ws.contoso.com/ws", host="127.0.0.1", port={{gateway.Port}}) as ws:
                        await ws.send(f"message {i}")
                        print("echo:", await asyncio.wait_for(ws.recv(), 5))
            asyncio.run(main())
            """;
        var (exitCode, output) = await ExternalProcess.RunAsync(TimeSpan.FromSeconds(30), "/usr/bin/python3", "-c", script);

        Assert.True(exitCode == 0, output);
        for (var i = 0; i < 6; i++)
        {
            Assert.Contains($"echo: message {i}", output);
        }

        // Round robin over the two pods: each websocketd ran `cat` for some of the six connections.
        Assert.True(pods.ConnectionsSeenBy("127.0.0.2") > 0 && pods.ConnectionsSeenBy("127.0.0.3") > 0,
            $"both replicas should serve connections:\n{pods.Output}");
    }
}

/// <summary>The two pods of the founding document on the addresses deploy/seed/endpoints.yaml names.</summary>
internal sealed class SeedPods : IAsyncDisposable
{
    public const string Collection = "seed pods on 127.0.0.2:8888 and 127.0.0.3:8888";

    private readonly ExternalProcess[] _processes;

    private SeedPods(ExternalProcess[] processes) => _processes = processes;

    public string Output => string.Join("\n", _processes.Select(p => p.Output));

    public static async Task<SeedPods> StartWebsocketdAsync()
    {
        var processes = new[] { "127.0.0.2", "127.0.0.3" }
            .Select(a => ExternalProcess.Start("websocketd", "--address", a, "--port", "8888", "--loglevel", "access", "cat"))
            .ToArray();
        var pods = new SeedPods(processes);
        foreach (var address in new[] { "127.0.0.2", "127.0.0.3" })
        {
            await Eventually.TrueAsync(async () =>
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Parse(address), 8888);
                return true;
            }, $"websocketd listening on {address}:8888");
        }

        return pods;
    }

    /// <summary>websocketd logs one "CONNECT" access line per WebSocket it accepts.</summary>
    public int ConnectionsSeenBy(string address)
    {
        var process = _processes[address == "127.0.0.2" ? 0 : 1];
        return process.Output.Split('\n').Count(l => l.Contains("CONNECT", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
    }
}

[CollectionDefinition(SeedPods.Collection, DisableParallelization = true)]
public sealed class SeedPodsCollection;
