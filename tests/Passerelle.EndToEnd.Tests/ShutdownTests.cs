using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// SIGTERM, as Kubernetes sends it: every WebSocket gets Close 1001 instead of a dropped connection, in-flight
/// HTTP requests finish, and the gateway exits within its shutdown timeout.
/// </summary>
public sealed class ShutdownTests
{
    [Fact]
    public async Task SigtermClosesWebSocketsPolitelyAndLetsRequestsFinish()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        var folder = Directory.CreateTempSubdirectory("passerelle-shutdown-").FullName;
        File.WriteAllText(Path.Combine(folder, "app.yaml"), Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"));
        var (httpPort, adminPort) = (PasserelleProcess.FreePort(), PasserelleProcess.FreePort());
        await using var gateway = PasserelleProcess.Start("run", "-f", folder, "--http-port", $"{httpPort}", "--admin-port", $"{adminPort}",
            "--listen-address", "127.0.0.1", "--shutdown-timeout", "8s", "--close-spread", "1s");
        using var client = new HttpClient();
        await Eventually.TrueAsync(async () => (await client.GetAsync($"http://127.0.0.1:{adminPort}/readyz")).IsSuccessStatusCode,
            "the gateway to be ready", TimeSpan.FromSeconds(30));

        var http = new Uri($"http://127.0.0.1:{httpPort}/");
        var sockets = new List<ClientWebSocket>();
        for (var i = 0; i < 5; i++)
        {
            var socket = await WebSockets.ConnectAsync(http);
            Assert.Equal("hello from pod-a", await socket.ReceiveTextAsync());
            sockets.Add(socket);
        }

        var inFlight = client.GetAsync($"{http}delay/1500");
        await Eventually.TrueAsync(() => pod.DelayedRequests == 1, "the request to be in flight at the backend");
        var stopping = Stopwatch.StartNew();
        gateway.Signal("TERM");

        foreach (var socket in sockets)
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var result = await socket.ReceiveAsync(new byte[256], deadline.Token);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, result.CloseStatus);
        }

        var response = await inFlight;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("pod-a after 1500 ms", await response.Content.ReadAsStringAsync());

        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, gateway.ExitCode);
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(8), $"stopped in {stopping.Elapsed}, over the 8 s shutdown timeout");
    }
}
