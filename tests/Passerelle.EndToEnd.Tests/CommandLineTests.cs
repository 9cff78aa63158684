using System.Net;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>The <c>passerelle</c> verbs as a separate process: exit codes, output, and signals.</summary>
public sealed class CommandLineTests
{
    private static string Seed => Path.Combine(GatewayUnderTest.RepositoryRoot, "deploy", "seed");

    [Fact]
    public async Task CheckPrintsTheSeedsRoutingTableAndSucceeds()
    {
        var (exitCode, output, _) = await PasserelleProcess.RunAsync("check", "-f", Seed);

        Assert.True(exitCode == 0, output);
        Assert.Contains("No diagnostics.", output);
        Assert.Matches(@"ws\.contoso\.com +/\* +any +default/websocket-app-service:80 +127\.0\.0\.2:8888, 127\.0\.0\.3:8888 +Ingress default/websocket-repeater", output);
    }

    [Fact]
    public async Task CheckFailsOnAnErrorAndNamesFileObjectAndField()
    {
        var folder = Directory.CreateTempSubdirectory("passerelle-check-").FullName;
        File.WriteAllText(Path.Combine(folder, "svc.yaml"), "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n    - port: http\n");

        var (exitCode, output, _) = await PasserelleProcess.RunAsync("check", "-f", folder);

        Assert.Equal(1, exitCode);
        Assert.Contains($"{Path.Combine(folder, "svc.yaml")}:7: error: Service default/web: spec.ports[0].port: ", output);
        Assert.Contains("1 error(s)", output);
    }

    [Fact]
    public async Task RunRefusesToStartWithNothingToServe()
    {
        var folder = Directory.CreateTempSubdirectory("passerelle-run-").FullName;
        File.WriteAllText(Path.Combine(folder, "nginx.yaml"), Manifests.Ingress("web", "", "web").Replace("azure/application-gateway", "nginx", StringComparison.Ordinal));

        var (exitCode, output, _) = await PasserelleProcess.RunAsync("run", "-f", folder, "--http-port", "0", "--admin-port", "0");

        Assert.Equal(1, exitCode);
        Assert.Contains("nothing to serve", output);
        Assert.Contains("ingress class \"nginx\" belongs to another controller", output);
    }

    [Theory]
    [InlineData("--http-port", "70000", "--http-port 70000 is not a TCP port")]
    [InlineData("--request-timeout", "soon", "--request-timeout: \"soon\" is not a duration")]
    [InlineData("--listen-address", "somewhere", "\"somewhere\" is not an IP address")]
    public async Task RunRejectsBadOptionsWithAClearMessage(string option, string value, string message)
    {
        var (exitCode, output, _) = await PasserelleProcess.RunAsync("run", "-f", Seed, option, value, "--admin-port", "0");

        Assert.NotEqual(0, exitCode);
        Assert.Contains(message, output);
    }

    [Theory]
    [InlineData("run", "--websocket-idle-timeout")]
    [InlineData("check", "--filename")]
    [InlineData("demo", "--http-port")]
    public async Task EveryVerbHasHelp(string verb, string option)
    {
        var (exitCode, output, _) = await PasserelleProcess.RunAsync(verb, "--help");

        Assert.Equal(0, exitCode);
        Assert.Contains(option, output);
    }

    [Fact]
    public async Task RunServesAdminEndpointsAndStopsCleanlyOnSigterm()
    {
        var (httpPort, adminPort) = (PasserelleProcess.FreePort(), PasserelleProcess.FreePort());
        await using var gateway = PasserelleProcess.Start("run", "-f", Seed, "--http-port", $"{httpPort}", "--admin-port", $"{adminPort}");
        using var client = new HttpClient();

        await Eventually.TrueAsync(async () => (await client.GetAsync($"http://127.0.0.1:{adminPort}/readyz")).IsSuccessStatusCode,
            "/readyz to answer 200", TimeSpan.FromSeconds(30));
        Assert.Equal("ok\n", await client.GetStringAsync($"http://127.0.0.1:{adminPort}/healthz"));
        Assert.Contains("default/websocket-app-service:80", await client.GetStringAsync($"http://127.0.0.1:{adminPort}/config"));

        // Traffic is not served on the admin port, and the admin endpoints are not on the traffic port.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{httpPort}/readyz") { Headers = { Host = "elsewhere" } };
        Assert.Equal(HttpStatusCode.NotFound, (await client.SendAsync(request)).StatusCode);

        gateway.Signal("TERM");
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, gateway.ExitCode);
    }
}
