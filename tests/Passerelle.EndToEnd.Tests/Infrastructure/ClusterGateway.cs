using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Passerelle.EndToEnd.Tests.Infrastructure.FakeApi;
using Passerelle.Hosting;
using Passerelle.Kubernetes.Api;
using Passerelle.Kubernetes.Api.Status;
using Passerelle.Proxy;

namespace Passerelle.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A gateway started in the test process as <c>passerelle run --kubernetes --kubeconfig PATH</c> starts it,
/// against a <see cref="FakeApiServer"/>, with timings shortened so that retries, watch timeouts and leader
/// election happen within a test's time.
/// </summary>
internal sealed class ClusterGateway : IAsyncDisposable
{
    private static readonly HttpClient Client = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.Zero }) { Timeout = TimeSpan.FromSeconds(10) };

    private readonly string _kubeconfig;

    private ClusterGateway(GatewayHost host, CapturedLogs logs, string kubeconfig, string token)
    {
        Host = host;
        Logs = logs;
        _kubeconfig = kubeconfig;
        Token = token;
    }

    public GatewayHost Host { get; }

    public CapturedLogs Logs { get; }

    /// <summary>The bearer token it authenticates with, which the fake server records on each request.</summary>
    public string Token { get; }

    public KubernetesObjectSource Source => Host.App.Services.GetRequiredService<KubernetesObjectSource>();

    public IngressStatusPublisher? Status => Host.App.Services.GetService<IngressStatusPublisher>();

    public Model.GatewayModel Model => Host.Snapshots.Model;

    public static async Task<ClusterGateway> StartAsync(FakeApiServer server, string token = "gateway", Action<KubernetesApiOptions>? configure = null)
    {
        var kubeconfig = server.WriteKubeconfig(token);
        var options = new KubernetesApiOptions
        {
            Kubeconfig = kubeconfig,
            WatchTimeout = TimeSpan.FromSeconds(30),
            RequestTimeout = TimeSpan.FromSeconds(2),
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(400),
            LeaseDuration = TimeSpan.FromSeconds(2),
            RenewDeadline = TimeSpan.FromMilliseconds(1500),
            LeaseRetryPeriod = TimeSpan.FromMilliseconds(200),
            Identity = token,
        };
        configure?.Invoke(options);
        var logs = new CapturedLogs();
        var host = GatewayHost.Create(new GatewayOptions { ListenAddress = IPAddress.Loopback, HttpPort = 0, AdminPort = 0 },
            new ConfigurationSource.KubernetesApi(options), logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        await host.StartAsync();
        return new ClusterGateway(host, logs, kubeconfig, token);
    }

    /// <summary>Waits for the first configuration published from a complete sync.</summary>
    public Task WaitSyncedAsync() =>
        Eventually.TrueAsync(() => Host.Snapshots.HasConfiguration, "the gateway to sync with the API and publish a configuration");

    /// <summary>GET through the gateway with the given Host header; the status and body.</summary>
    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, string host = ApiFixtures.Host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{Host.HttpPort}{path}") { Headers = { Host = host } };
        using var response = await Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary><c>/readyz</c>: its status code and JSON.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Body)> ReadyzAsync()
    {
        using var response = await Client.GetAsync($"http://127.0.0.1:{Host.AdminPort}/readyz");
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        await Host.StopAsync();
        await Host.DisposeAsync();
        File.Delete(_kubeconfig);
    }
}
