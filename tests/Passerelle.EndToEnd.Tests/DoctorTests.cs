using System.Net;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary><c>passerelle doctor</c> on real backends: the founding document's trap found before users find it.</summary>
public sealed class DoctorTests
{
    [Fact]
    public async Task AWebSocketOnlyBackendFailsTheApplicationGatewayVerdictWithTheFix()
    {
        var (a, b) = (Loopback.NextAddress(), Loopback.NextAddress());
        await using var websocketd = await Peers.WebsocketdAsync(a);
        await using var python = await Peers.PythonWebSocketsAsync(b);
        var folder = Folder(Manifests.Service("ws", [new IPEndPoint(a, 8888), new IPEndPoint(b, 8888)]) + "---\n" + Manifests.Ingress("ws", "ws.contoso.com", "ws"));

        var (exitCode, output, _) = await PasserelleProcess.RunAsync("doctor", "-f", folder);

        Assert.Equal(1, exitCode);
        Assert.Matches($@"default/ws:80 +{Regex(a)}:8888 +unhealthy: GET http://ws\.contoso\.com/ -> 404 +healthy: GET http://ws\.contoso\.com/ -> 404, WebSocket handshake http://ws\.contoso\.com/ -> 101", output);
        Assert.Matches($@"default/ws:80 +{Regex(b)}:8888 +unhealthy: GET http://ws\.contoso\.com/ -> 426 +healthy: GET http://ws\.contoso\.com/ -> 426, WebSocket handshake http://ws\.contoso\.com/ -> 101", output);
        Assert.Contains("default/ws:80: Application Gateway would mark every endpoint unhealthy and answer 502 Bad Gateway; Passerelle serves it.", output);
        Assert.Contains("Fix: default/ws:80: a WebSocket server that answers a plain GET / with 404. Give the pod template a readinessProbe", output);
    }

    [Fact]
    public async Task AReadinessProbeOnHealthPassesBothVerdicts()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        var deployment = Manifests.DeploymentWithReadiness("web", "/health", "timeoutSeconds: 10");
        var folder = Folder(deployment + "---\n" + Manifests.Service("web", [pod.EndPoint], selectApp: "web")
            + "---\n" + Manifests.Ingress("web", "web.contoso.com", "web"));

        var (exitCode, output, _) = await PasserelleProcess.RunAsync("doctor", "-f", folder);

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"healthy: GET http://web\.contoso\.com/health -> 200 +healthy: GET http://web\.contoso\.com/health -> 200", output);
        Assert.Contains("Application Gateway would serve every backend.", output);
    }

    [Fact]
    public async Task ABackendThatIsDownFailsBothVerdicts()
    {
        var address = Loopback.NextAddress();
        var folder = Folder(Manifests.Service("web", [new IPEndPoint(address, 8888)]) + "---\n" + Manifests.Ingress("web", "", "web"));

        var (exitCode, output, _) = await PasserelleProcess.RunAsync("doctor", "-f", folder);

        Assert.Equal(1, exitCode);
        Assert.Contains("Passerelle cannot serve it either.", output);
        Assert.Contains($"nothing answered the probe on {address}:8888", output);
    }

    private static string Regex(IPAddress address) => System.Text.RegularExpressions.Regex.Escape(address.ToString());

    private static string Folder(string yaml)
    {
        var folder = Directory.CreateTempSubdirectory("passerelle-doctor-").FullName;
        File.WriteAllText(Path.Combine(folder, "app.yaml"), yaml);
        return folder;
    }
}
