using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;

namespace ChatServer;

/// <summary>
/// Builds the chat server: for its own <c>Program</c>, and for hosts that run replicas in their own process
/// (each call makes an independent replica with its own room, unless they share Redis or an <see cref="InProcessRoom"/>).
/// </summary>
public static class ChatServerApp
{
    /// <summary>Where the founding document's Deployment listens.</summary>
    public const string DefaultUrl = "http://0.0.0.0:8888";

    private static readonly byte[] Page = LoadPage();

    /// <param name="args">
    /// Arguments as for any ASP.NET Core application (<c>--urls http://127.0.0.2:8888</c>,
    /// <c>--ChatServer:AllowedOrigins:0=https://chat.example.com</c>, ...), plus <c>--strict-handshake</c> and
    /// <c>--redis host:port</c>.
    /// </param>
    /// <param name="configure">Applied after configuration, so a host can set options without composing arguments.</param>
    /// <param name="room">
    /// A room this replica shares with the other replicas of this process given the same instance; null for a room of
    /// its own, or the one in <see cref="ChatServerOptions.Redis"/>.
    /// </param>
    /// <exception cref="OptionsValidationException">The options are invalid; the message names each key at fault.</exception>
    public static WebApplication Build(string[] args, Action<ChatServerOptions>? configure = null, InProcessRoom? room = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = ExpandSwitches(args),
            // Not the entry assembly's name: an in-process host is another program.
            ApplicationName = typeof(ChatServerApp).Assembly.GetName().Name,
        });
        // Lowest priority, so any appsettings, environment variable or argument overrides it: without an
        // appsettings.json every request would be logged, drowning the chat server's own messages.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = [new("Logging:LogLevel:Microsoft.AspNetCore", "Warning")],
        });
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            // Also wins over ASPNETCORE_HTTP_PORTS, which the .NET container images set to 8080.
            builder.WebHost.UseUrls(DefaultUrl);
        }

        var options = builder.Services.AddOptions<ChatServerOptions>().BindConfiguration(ChatServerOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }
        builder.Services.AddSingleton<IValidateOptions<ChatServerOptions>, ChatServerOptionsValidator>();
        builder.Services.AddSingleton<OriginPolicy>();
        builder.Services.AddSingleton(services => CreateBackplane(services, room));
        builder.Services.AddSingleton<Hub>();
        builder.Services.AddHostedService(services => services.GetRequiredService<Hub>());

        var app = builder.Build();
        try
        {
            // Here rather than at start: a mistake is reported by itself, before the host logs a failure to start.
            var settings = app.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value;
            if (room is not null && !string.IsNullOrWhiteSpace(settings.Redis))
            {
                throw new OptionsValidationException(ChatServerOptions.SectionName, typeof(ChatServerOptions),
                [
                    $"{ChatServerOptions.SectionName}:Redis is set, but this replica was also given an in-process room: " +
                    "its room is either in Redis or shared in the process, not both.",
                ]);
            }
        }
        catch (OptionsValidationException)
        {
            ((IDisposable)app).Dispose();
            throw;
        }

        // Needed for WebSockets over HTTP/2 (RFC 8441) only; HTTP/1.1 handshakes are LenientWebSocketHandshake's.
        app.UseWebSockets();
        app.MapGet("/", () => Results.Bytes(Page, "text/html; charset=utf-8"));
        // 200 while Redis is unreachable too: the replica still serves its members (the room shrinks to them until
        // Redis is back, which is logged), and failing the probe would only make the gateway drop those members as well.
        app.MapGet("/health", (IHostApplicationLifetime lifetime) => lifetime.ApplicationStopping.IsCancellationRequested
            ? Results.Text("stopping", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Text("ok"));
        app.MapGet("/whoami", (IOptions<ChatServerOptions> settings) => Results.Text(settings.Value.ReplicaName));
        app.Map("/ws", ChatSocketEndpoint.HandleAsync);
        app.Lifetime.ApplicationStarted.Register(() =>
            Log.Listening(app.Logger, app.Services.GetRequiredService<IOptions<ChatServerOptions>>().Value.ReplicaName, string.Join(", ", app.Urls)));
        return app;
    }

    private static IChatBackplane CreateBackplane(IServiceProvider services, InProcessRoom? room)
    {
        if (room is not null)
        {
            return room.Join();
        }
        return string.IsNullOrWhiteSpace(services.GetRequiredService<IOptions<ChatServerOptions>>().Value.Redis)
            ? new LocalBackplane()
            : ActivatorUtilities.CreateInstance<RedisBackplane>(services);
    }

    // Configuration wants key=value, but a switch reads better as a bare flag, and --redis as a short name.
    private static string[] ExpandSwitches(string[] args)
    {
        var expanded = new List<string>(args.Length);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--strict-handshake")
            {
                expanded.Add("--ChatServer:StrictHandshake=true");
            }
            else if (arg.StartsWith("--strict-handshake=", StringComparison.Ordinal))
            {
                expanded.Add("--ChatServer:StrictHandshake=" + arg["--strict-handshake=".Length..]);
            }
            else if (arg == "--redis")
            {
                if (i + 1 == args.Length || args[i + 1].StartsWith('-'))
                {
                    throw new OptionsValidationException(ChatServerOptions.SectionName, typeof(ChatServerOptions),
                        ["--redis needs a value: the Redis server's host:port, optionally followed by ',password=...'."]);
                }
                expanded.Add("--ChatServer:Redis=" + args[++i]);
            }
            else if (arg.StartsWith("--redis=", StringComparison.Ordinal))
            {
                expanded.Add("--ChatServer:Redis=" + arg["--redis=".Length..]);
            }
            else
            {
                expanded.Add(arg);
            }
        }
        return [.. expanded];
    }

    private static byte[] LoadPage()
    {
        using var stream = typeof(ChatServerApp).Assembly.GetManifestResourceStream("ChatServer.ChatPage.html")
            ?? throw new InvalidOperationException("ChatPage.html is missing from the assembly's resources.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
