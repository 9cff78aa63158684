using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A real Kestrel server standing in for one pod: <c>/whoami</c> answers its name, <c>/headers</c> the request
/// line and headers it received, <c>/slow</c> answers after 10 s, <c>/delay/MS</c> after MS milliseconds,
/// <c>/health</c> 200, and <c>/ws</c> is a
/// WebSocket that greets with the pod's name and then echoes every message.
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _webSockets;
    private int _delayed;

    private TestBackend(WebApplication app, string name, IPEndPoint endpoint)
    {
        _app = app;
        Name = name;
        EndPoint = endpoint;
    }

    public string Name { get; }

    public IPEndPoint EndPoint { get; }

    public int WebSocketsAccepted => Volatile.Read(ref _webSockets);

    /// <summary>Requests to <c>/delay/MS</c> that have arrived, answered or not.</summary>
    public int DelayedRequests => Volatile.Read(ref _delayed);

    /// <summary>Starts a pod on its own loopback address; all pods use the same port, as pods of a Deployment do.</summary>
    public static async Task<TestBackend> StartAsync(string name, IPAddress? address = null, int port = 8888)
    {
        address ??= Loopback.NextAddress();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        var app = builder.Build();
        var backend = new TestBackend(app, name, new IPEndPoint(address, port));
        app.UseWebSockets();
        app.Map("/whoami", () => name);
        app.Map("/health", () => "ok");
        app.Map("/slow", async (CancellationToken ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), ct);
            return "late";
        });
        app.Map("/delay/{ms:int}", async (int ms, CancellationToken ct) =>
        {
            Interlocked.Increment(ref backend._delayed);
            await Task.Delay(ms, ct);
            return $"{name} after {ms} ms";
        });
        app.Map("/headers", (HttpContext context) =>
        {
            var text = new StringBuilder($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString} {context.Request.Protocol}\n");
            foreach (var header in context.Request.Headers)
            {
                text.Append(header.Key).Append(": ").Append(header.Value.ToString()).Append('\n');
            }

            return text.ToString();
        });
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            Interlocked.Increment(ref backend._webSockets);
            await socket.SendAsync(Encoding.UTF8.GetBytes("hello from " + name), WebSocketMessageType.Text, true, context.RequestAborted);
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
            }
        });
        await app.StartAsync();
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(stopping.Token);
        await _app.DisposeAsync();
    }
}
