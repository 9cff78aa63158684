using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary><c>passerelle demo</c>, the README's first command, as a user runs it.</summary>
[Collection(SeedPods.Collection)]
public sealed class DemoTests
{
    [Fact]
    public async Task TheDemoServesTheChatThroughTheGatewayAndAnswersTheFoundingDocumentsCurl()
    {
        var (httpPort, adminPort) = (PasserelleProcess.FreePort(), PasserelleProcess.FreePort());
        await using var demo = PasserelleProcess.Start("demo", "--http-port", $"{httpPort}", "--admin-port", $"{adminPort}");
        await demo.WaitForOutputAsync("Passerelle demo is running", TimeSpan.FromSeconds(60));
        Assert.Contains($"http://localhost:{httpPort}/", demo.Output);

        var (_, _, curl) = await ExternalProcess.RunCapturingAsync(TimeSpan.FromSeconds(30), "curl", "-i", "-N",
            "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Origin: http://localhost",
            "-H", "Host: ws.contoso.com", "-H", "Sec-Websocket-Version: 13", "-H", "Sec-WebSocket-Key: 123",
            $"http://127.0.0.1:{httpPort}/ws", "--max-time", "2");
        Assert.StartsWith("HTTP/1.1 101 Switching Protocols", curl.TrimStart());

        using var client = new HttpClient();
        var page = await client.GetStringAsync($"http://localhost:{httpPort}/");
        Assert.Contains("new URL(\"ws\", location.href)", page);

        // Both replicas serve: the gateway balances /whoami over the two pods.
        var names = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            names.Add(await client.GetStringAsync($"http://localhost:{httpPort}/whoami"));
        }

        Assert.Equal(["websocket-server-0", "websocket-server-1"], names.Order());

        demo.Signal("INT");
        await demo.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, demo.ExitCode);
    }
}
