using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using Passerelle.EndToEnd.Tests.Infrastructure;

namespace Passerelle.EndToEnd.Tests;

/// <summary>
/// Bad manifests while the gateway runs: a clear diagnostic naming file, object and field, logged once; the
/// bad part is left out, everything else applies, a broken file keeps its last good objects, and open
/// connections stay open.
/// </summary>
public sealed class BadInputTests
{
    [Fact]
    public async Task ASyntaxErrorKeepsTheFilesLastGoodObjectsAndItsOpenConnections()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        var good = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string> { ["app.yaml"] = good });
        using var socket = await WebSockets.ConnectAsync(gateway.Http);
        Assert.Equal("hello from pod-a", await socket.ReceiveTextAsync());
        var generation = gateway.Generation;

        await gateway.WriteAsync("app.yaml", good + "---\nkind: Service\nmetadata: {name: [oops\n", expectNewGeneration: false);
        await Eventually.TrueAsync(() => gateway.Logs.Count("app.yaml:") > 0, "a diagnostic about app.yaml");
        var diagnostic = gateway.Logs.Entries.First(e => e.Message.Contains("app.yaml:", StringComparison.Ordinal));
        Assert.Matches(@"app\.yaml:\d+: error: ", diagnostic.Message);
        Assert.Contains("keeping the", gateway.Logs.Dump());

        // Another, unrelated change: the same diagnostic is not logged again, and the route still serves.
        await gateway.WriteAsync("extra.yaml", Manifests.Ingress("extra", "extra.contoso.com", "web"));
        Assert.Equal(1, gateway.Logs.Count(diagnostic.Message));
        Assert.True(gateway.Generation > generation);
        using var client = new HttpClient();
        Assert.Equal("pod-a", await client.GetStringAsync($"{gateway.Http}whoami"));
        Assert.Equal("through the error", await socket.EchoAsync("through the error"));
    }

    [Fact]
    public async Task AFieldOfTheWrongTypeLeavesOnlyThatObjectOut()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "ws.contoso.com", "web"),
        });

        var broken = Manifests.Ingress("broken", "broken.contoso.com", "web").Replace("number: 80", "number: eighty", StringComparison.Ordinal);
        await gateway.WriteAsync("more.yaml", broken + "---\n" + Manifests.Ingress("fine", "fine.contoso.com", "web"));

        var error = gateway.Logs.Entries.Single(e => e.Message.Contains("Ingress default/broken", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Error, error.Level);
        Assert.Matches(@"more\.yaml:\d+: error: Ingress default/broken: spec\.rules\[0\]\.http\.paths\[0\]\.backend\.service\.port\.number: ", error.Message);

        using var client = new HttpClient();
        Assert.Equal("pod-a", await GetAsync(client, gateway, "fine.contoso.com"));
        Assert.Equal("pod-a", await GetAsync(client, gateway, "ws.contoso.com"));
        Assert.Contains("no route", await GetAsync(client, gateway, "broken.contoso.com"));
    }

    [Fact]
    public async Task AMissingServiceOrPortIsNamedInTheDiagnosticAndThe502()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "ws.contoso.com", "web"),
        });

        await gateway.WriteAsync("typo.yaml", Manifests.Ingress("typo", "typo.contoso.com", "wbe"));
        var warning = gateway.Logs.Entries.Single(e => e.Message.Contains("Ingress default/typo", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("typo.yaml:", warning.Message);
        Assert.Contains("spec.rules[0].http.paths[0].backend.service: Service default/wbe not found", warning.Message);

        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}ws") { Headers = { Host = "typo.contoso.com" } };
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("Service default/wbe not found", await response.Content.ReadAsStringAsync());
        Assert.Equal("pod-a", await GetAsync(client, gateway, "ws.contoso.com"));
    }

    [Fact]
    public async Task UnknownKindsAreNotedAndIgnored()
    {
        await using var pod = await TestBackend.StartAsync("pod-a");
        await using var gateway = await GatewayUnderTest.StartAsync(new Dictionary<string, string>
        {
            ["app.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n---\n"
                + Manifests.Service("web", [pod.EndPoint]) + "---\n" + Manifests.Ingress("web", "", "web"),
        });

        var note = gateway.Logs.Entries.Single(e => e.Message.Contains("ConfigMap", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, note.Level);
        using var client = new HttpClient();
        Assert.Equal("pod-a", await client.GetStringAsync($"{gateway.Http}whoami"));
    }

    private static async Task<string> GetAsync(HttpClient client, GatewayUnderTest gateway, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.Http}whoami") { Headers = { Host = host } };
        return await (await client.SendAsync(request)).Content.ReadAsStringAsync();
    }
}
