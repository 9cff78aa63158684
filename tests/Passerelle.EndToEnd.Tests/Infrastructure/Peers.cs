using System.Net;
using System.Net.Sockets;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>Third-party WebSocket servers and misbehaving backends, each on its own loopback address, port 8888.</summary>
internal static class Peers
{
    private const string PythonEchoServer = """
        import asyncio, sys, websockets
        async def echo(ws, path):
            async for message in ws:
                await ws.send(message)
        async def main():
            async with websockets.serve(echo, sys.argv[1], 8888):
                print("listening", flush=True)
                await asyncio.Future()
        asyncio.run(main())
        """;

    /// <summary>Debian's websocketd running <c>cat</c>: answers a plain GET with 404, echoes WebSocket lines.</summary>
    public static async Task<ExternalProcess> WebsocketdAsync(IPAddress address)
    {
        var process = ExternalProcess.Start("websocketd", "--address", address.ToString(), "--port", "8888", "--loglevel", "access", "cat");
        await WaitForListenerAsync(address, "websocketd");
        return process;
    }

    /// <summary>A python3-websockets echo server: answers a plain GET with 426 Upgrade Required.</summary>
    public static async Task<ExternalProcess> PythonWebSocketsAsync(IPAddress address)
    {
        var process = ExternalProcess.Start("/usr/bin/python3", "-c", PythonEchoServer, address.ToString());
        await process.WaitForOutputAsync("listening");
        return process;
    }

    /// <summary>Accepts TCP connections and never answers: the backend that hangs.</summary>
    public static TcpListener Hanging(IPAddress address)
    {
        var listener = new TcpListener(address, 8888);
        listener.Start();
        var held = new List<Socket>();
        _ = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    held.Add(await listener.AcceptSocketAsync());
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                foreach (var socket in held)
                {
                    socket.Dispose();
                }
            }
        });
        return listener;
    }

    private static Task WaitForListenerAsync(IPAddress address, string what) =>
        Eventually.TrueAsync(async () =>
        {
            using var client = new TcpClient();
            await client.ConnectAsync(address, 8888);
            return true;
        }, $"{what} listening on {address}:8888");
}
