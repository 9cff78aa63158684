using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Passerelle.Health;
using Passerelle.Kubernetes.Api;
using Passerelle.Kubernetes.Api.Status;
using Passerelle.Kubernetes.Files;
using Passerelle.Kubernetes.Sources;
using Passerelle.Model.Translation;
using Passerelle.Proxy;
using Passerelle.Proxy.Listeners;
using Passerelle.Proxy.Runtime;
using Passerelle.Proxy.Tunnels;

namespace Passerelle.Hosting;

/// <summary>
/// One gateway process: the traffic listener (HTTP/1.1, HTTP/2 prior knowledge, WebSocket), the admin listener,
/// and the configuration loop that feeds them from manifest files or from the Kubernetes API (with, there, the
/// Ingress status publisher).
/// </summary>
internal sealed class GatewayHost : IAsyncDisposable
{
    private const string AdminConnectionKey = "passerelle.admin";

    private readonly string _http2SocketPath;
    private ListenOptions? _trafficListener;
    private ListenOptions? _adminListener;

    private GatewayHost(string http2SocketPath) => _http2SocketPath = http2SocketPath;

    public WebApplication App { get; private set; } = null!;

    public ConfigurationLoop Configuration => App.Services.GetRequiredService<ConfigurationLoop>();

    public SnapshotHolder Snapshots => App.Services.GetRequiredService<SnapshotHolder>();

    public HealthMonitor Health => App.Services.GetRequiredService<HealthMonitor>();

    /// <summary>The bound traffic port (useful when the options asked for port 0).</summary>
    public int HttpPort => (_trafficListener?.IPEndPoint ?? throw new InvalidOperationException("not started")).Port;

    public int AdminPort => (_adminListener?.IPEndPoint ?? throw new InvalidOperationException("not started")).Port;

    public static GatewayHost Create(GatewayOptions options, IEnumerable<string> manifestPaths, Action<ILoggingBuilder>? logging = null) =>
        Create(options, new ConfigurationSource.Manifests(manifestPaths.ToArray()), logging);

    public static GatewayHost Create(GatewayOptions options, ConfigurationSource source, Action<ILoggingBuilder>? logging = null)
    {
        var problems = options.Validate().ToList();
        if (source is ConfigurationSource.KubernetesApi api)
        {
            problems.AddRange(api.Options.Validate());
        }

        if (problems.Count > 0)
        {
            throw new OptionsException(problems);
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });

            // Logging runs on the socket threads (SocketTuning): a burst must cost lines, never a stalled data plane.
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o =>
            {
                o.QueueFullMode = Microsoft.Extensions.Logging.Console.ConsoleLoggerQueueFullMode.DropWrite;
                o.MaxQueueLength = 10_000;
            });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Logging.AddFilter("Yarp", LogLevel.Warning);

            // With any level enabled, ASP.NET Core's hosting creates an Activity and a log scope for every request,
            // a WebSocket's included, and keeps them for its whole life: the gateway logs its own events instead.
            builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        }
        else
        {
            logging(builder.Logging);
        }

        builder.Services.AddPasserelleDataPlane(options);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        AddSource(builder.Services, source);
        builder.Services.AddSingleton<ConfigurationLoop>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ConfigurationLoop>());

        var socketPath = Path.Combine(Path.GetTempPath(), $"passerelle-h2-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        var host = new GatewayHost(socketPath);
        builder.WebHost.UseGatewaySockets();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // A gateway passes bodies through; the backend decides what it accepts (Kestrel's default is 30 MB).
            kestrel.Limits.MaxRequestBodySize = null;

            host._trafficListener = kestrel.ListenForTraffic(options, socketPath);
            kestrel.Listen(options.AdminAddress, options.AdminPort, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.Use(next => connection =>
                {
                    connection.Items[AdminConnectionKey] = true;
                    return next(connection);
                });
                host._adminListener = l;
            });
        });

        var app = host.App = builder.Build();
        var forwarder = app.Services.GatewayRequestHandler();
        var admin = new AdminEndpoints(app.Services.GetRequiredService<SnapshotHolder>(), app.Services.GetRequiredService<ConfigurationLoop>(),
            app.Services.GetRequiredService<HealthMonitor>(), app.Lifetime, app.Services.GetService<IngressStatusPublisher>());
        app.Run(context => IsAdmin(context) ? admin.HandleAsync(context) : forwarder(context));

        // SIGTERM: /readyz already answers 503 (it watches ApplicationStopping); every WebSocket gets a polite
        // Close 1001, spread so clients do not reconnect elsewhere all at once, while Kestrel stops accepting and
        // waits for in-flight requests, the WebSockets among them, up to the shutdown timeout.
        var connections = app.Services.GetRequiredService<UpgradedConnections>();
        var spread = options.CloseSpread < options.ShutdownTimeout / 2 ? options.CloseSpread : options.ShutdownTimeout / 2;
        app.Lifetime.ApplicationStopping.Register(() => _ = connections.CloseAllAsync(WebSocketCloseStatus.EndpointUnavailable, spread));
        return host;
    }

    /// <summary>
    /// Registers the object source. For the API: the client (its configuration is checked here, so that a bad
    /// kubeconfig stops the gateway with the options' other problems), the object source and, when an address
    /// is to be published, the Ingress status publisher.
    /// </summary>
    private static void AddSource(IServiceCollection services, ConfigurationSource source)
    {
        switch (source)
        {
            case ConfigurationSource.Manifests manifests:
                services.AddSingleton<IObjectSource>(_ => new ManifestSource(new ManifestFiles(manifests.Paths)));
                services.AddSingleton(IngressClassPolicy.Default);
                break;

            case ConfigurationSource.KubernetesApi api:
                (k8s.IKubernetes Client, string Server, string OwnNamespace) client;
                try
                {
                    client = ApiClient.Create(api.Options);
                }
                catch (ApiConfigurationException e)
                {
                    throw new OptionsException([e.Message]);
                }

                services.AddSingleton(_ => client.Client);
                services.AddSingleton(api.Options.ClassPolicy);
                services.AddSingleton(sp => new KubernetesObjectSource(client.Client, client.Server, api.Options,
                    sp.GetRequiredService<ILogger<KubernetesObjectSource>>()));
                services.AddSingleton<IObjectSource>(sp => sp.GetRequiredService<KubernetesObjectSource>());
                if (api.Options.PublishesStatus)
                {
                    services.AddSingleton(sp => new IngressStatusPublisher(client.Client, sp.GetRequiredService<KubernetesObjectSource>(), api.Options,
                        client.OwnNamespace, sp.GetRequiredService<ILogger<IngressStatusPublisher>>()));
                    services.AddHostedService<IngressStatusService>();
                }

                break;
        }
    }

    /// <summary>
    /// Loads and publishes the manifests before any listener opens, so the first request sees them. The API
    /// source publishes later, once every kind is listed; until then <c>/readyz</c> answers 503.
    /// </summary>
    public Model.GatewayModel LoadInitialConfiguration() => Configuration.ApplyOnce(force: true);

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (!Snapshots.HasConfiguration)
        {
            LoadInitialConfiguration();
        }

        await App.StartAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken = default) => App.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await App.DisposeAsync();
        try
        {
            File.Delete(_http2SocketPath);
        }
        catch (IOException)
        {
        }
    }

    private static bool IsAdmin(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(AdminConnectionKey) == true;
}

/// <summary>Options that cannot work, reported before anything starts.</summary>
internal sealed class OptionsException(IReadOnlyList<string> problems)
    : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
