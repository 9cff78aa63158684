using System.Net;
using System.Text.Json;
using Passerelle.EndToEnd.Tests.Infrastructure;
using Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;

namespace Passerelle.EndToEnd.Tests.KubernetesApi;

/// <summary><c>passerelle run --kubernetes</c> as a separate process: its options checked at start-up, and a run against an API server.</summary>
public sealed class KubernetesCommandLineTests
{
    private static string Seed => Path.Combine(GatewayUnderTest.RepositoryRoot, "deploy", "seed");

    [Theory]
    [InlineData("give -f PATH to serve manifest files, or --kubernetes", "run")]
    [InlineData("give either -f PATH (manifest files) or --kubernetes (the cluster's API), not both", "run", "--kubernetes", "-f", "SEED")]
    [InlineData("--namespace, --publish-address only apply with --kubernetes", "run", "-f", "SEED", "--namespace", "shop", "--publish-address", "1.2.3.4")]
    [InlineData("--kubeconfig /nonexistent/kubeconfig: no such file", "run", "--kubernetes", "--kubeconfig", "/nonexistent/kubeconfig")]
    [InlineData("--namespace \"Shop_1\" is not a namespace name", "run", "--kubernetes", "--namespace", "Shop_1")]
    [InlineData("--publish-address \"not an address!\" is neither an IP address nor a DNS name", "run", "--kubernetes", "--publish-address", "not an address!")]
    [InlineData("--publish-service \"passerelle\" must be namespace/name", "run", "--kubernetes", "--publish-service", "passerelle")]
    [InlineData("--publish-address and --publish-service both say what to publish", "run", "--kubernetes", "--publish-address", "1.2.3.4", "--publish-service", "a/b")]
    public async Task BadOptionsStopTheGatewayWithAClearMessage(string message, params string[] arguments)
    {
        var (exitCode, output, _) = await PasserelleProcess.RunAsync([.. arguments.Select(a => a == "SEED" ? Seed : a), "--admin-port", "0"]);

        // 1 for what the command line itself rejects, 2 for options checked at start-up; never a running gateway.
        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output);
    }

    [Fact]
    public async Task OutsideAClusterWithoutKubeconfigItSaysWhatToDo()
    {
        var (exitCode, output, _) = await PasserelleProcess.RunAsync("run", "--kubernetes", "--admin-port", "0");

        Assert.Equal(2, exitCode);
        Assert.Contains("not running in a cluster", output);
        Assert.Contains("give --kubeconfig PATH", output);
    }

    [Fact]
    public async Task RunKubernetesServesTheClusterAndStopsCleanlyOnSigterm()
    {
        await using var pod = await TestBackend.StartAsync("web-0");
        await using var server = await FakeApiServer.StartAsync();
        ApiFixtures.SeedWebApp(server, pod);
        var kubeconfig = server.WriteKubeconfig("process");
        var (httpPort, adminPort) = (PasserelleProcess.FreePort(), PasserelleProcess.FreePort());
        await using var gateway = PasserelleProcess.Start("run", "--kubernetes", "--kubeconfig", kubeconfig, "--namespace", "shop",
            "--publish-address", "203.0.113.10", "--http-port", $"{httpPort}", "--admin-port", $"{adminPort}");
        using var client = new HttpClient();

        await Eventually.TrueAsync(async () => (await client.GetAsync($"http://127.0.0.1:{adminPort}/readyz")).IsSuccessStatusCode,
            "/readyz to answer 200", TimeSpan.FromSeconds(30));
        var readyz = JsonDocument.Parse(await client.GetStringAsync($"http://127.0.0.1:{adminPort}/readyz")).RootElement;
        Assert.Equal("kubernetes", readyz.GetProperty("source").GetProperty("kind").GetString());
        Assert.All(readyz.GetProperty("source").GetProperty("details").GetProperty("kinds").EnumerateArray(),
            k => Assert.Equal(k.GetProperty("kind").GetString() == "IngressClass" ? null : "shop", k.GetProperty("namespace").GetString()));

        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{httpPort}/whoami") { Headers = { Host = ApiFixtures.Host } };
        Assert.Equal("web-0", await (await client.SendAsync(request)).Content.ReadAsStringAsync());
        await Eventually.TrueAsync(() => (string?)server.Get("Ingress", "shop", "web")!["status"]?["loadBalancer"]?["ingress"]?[0]?["ip"] == "203.0.113.10",
            "the Ingress status to be written");

        gateway.Signal("TERM");
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, gateway.ExitCode);

        // Stopping gracefully hands the Lease over at once.
        Assert.Equal("", (string?)server.Get("Lease", "passerelle", "passerelle-leader")!["spec"]!["holderIdentity"]);
        File.Delete(kubeconfig);
    }
}
